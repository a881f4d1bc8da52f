namespace BertSharp.Tokenization;

/// <summary>Character classes of Hugging Face's BertNormalizer/BertPreTokenizer, looked up in O(1) for the BMP.</summary>
/// <remarks>
/// The class data comes from <c>UnicodeTables.g.cs</c>, read off the Rust library itself, because .NET's
/// <see cref="System.Globalization.CharUnicodeInfo"/> follows a newer Unicode version than the Rust crate and
/// disagrees on several hundred code points.
/// </remarks>
internal static partial class UnicodeTables
{
    [Flags]
    internal enum CharClass : byte
    {
        None = 0,
        Dropped = 1,
        CleanSpace = 2,
        Punctuation = 4,
        NonspacingMark = 8,
        Cjk = 16,
        /// <summary>Rust's <c>char::is_whitespace</c>, which BertPreTokenizer splits on.</summary>
        Whitespace = 32,
        /// <summary>Lowercases to more than one code point (only U+0130 today).</summary>
        LowerExpands = 64,
    }

    private static readonly byte[] BmpClasses = BuildBmpClasses();
    private static readonly char[] BmpLower = BuildBmpLower(out AstralLower);
    private static readonly int[] AstralLower; // sorted (code point, lowercase) pairs
    private static readonly Dictionary<int, int> DecompositionIndex = BuildDecompositionIndex(out MaxDecompositionLength);
    private static readonly byte[] BmpCombiningRank = BuildBmpCombiningRank();

    /// <summary>The most code points one code point decomposes into (Hangul syllables included).</summary>
    internal static readonly int MaxDecompositionLength;

    internal static CharClass Classify(int codePoint) =>
        codePoint < 0x10000 ? (CharClass)BmpClasses[codePoint] : ClassifyAstral(codePoint);

    internal static int ToLower(int codePoint)
    {
        if (codePoint < 0x10000)
            return BmpLower[codePoint];
        int lo = 0, hi = AstralLower.Length / 2 - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            int key = AstralLower[2 * mid];
            if (key == codePoint) return AstralLower[2 * mid + 1];
            if (key < codePoint) lo = mid + 1; else hi = mid - 1;
        }
        return codePoint;
    }

    /// <summary>The lowercase expansion of a code point flagged <see cref="CharClass.LowerExpands"/>.</summary>
    internal static ReadOnlySpan<int> LowerExpansion(int codePoint)
    {
        var table = LowercaseExpanding;
        for (int i = 0; i < table.Length; i += 2 + table[i + 1])
            if (table[i] == codePoint)
                return table.Slice(i + 2, table[i + 1]);
        return default;
    }

    /// <summary>
    /// Canonical decomposition (NFD) of <paramref name="text"/> into code points, as the Rust library's
    /// Unicode tables define it.
    /// </summary>
    /// <remarks>
    /// .NET's string.Normalize is not used: under InvariantGlobalization (as the CLI runs) it returns non-ASCII
    /// text unchanged, and with ICU it follows a newer Unicode version than the Rust library.
    /// </remarks>
    /// <param name="text">UTF-16 text without lone surrogates.</param>
    /// <param name="output">At least <c>text.Length * MaxDecompositionLength</c> elements.</param>
    /// <returns>The number of code points written.</returns>
    internal static int Decompose(ReadOnlySpan<char> text, Span<int> output)
    {
        const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7, TCount = 28, NCount = 21 * TCount, SCount = 19 * NCount;
        var table = Decompositions;
        int w = 0;
        for (int i = 0; i < text.Length; i++)
        {
            int cp = text[i];
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                cp = char.ConvertToUtf32(text[i], text[++i]);

            if ((uint)(cp - SBase) < SCount)
            {
                int s = cp - SBase;
                output[w++] = LBase + s / NCount;
                output[w++] = VBase + s % NCount / TCount;
                if (s % TCount != 0) output[w++] = TBase + s % TCount;
            }
            else if (cp >= 0xC0 && DecompositionIndex.TryGetValue(cp, out int at))
            {
                foreach (int part in table.Slice(at + 1, table[at]))
                    Append(output, ref w, part);
            }
            else
            {
                Append(output, ref w, cp);
            }
        }
        return w;

        // Canonical ordering: a mark moves before preceding marks of a higher class (a stable insertion sort).
        static void Append(Span<int> output, ref int w, int cp)
        {
            int rank = CombiningRank(cp);
            int k = w++;
            if (rank != 0)
                while (k > 0 && CombiningRank(output[k - 1]) > rank)
                {
                    output[k] = output[k - 1];
                    k--;
                }
            output[k] = cp;
        }
    }

    internal static int CombiningRank(int cp)
    {
        if (cp < 0x10000)
            return BmpCombiningRank[cp];
        var runs = CombiningClassRuns;
        int lo = 0, hi = runs.Length / 3 - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (cp < runs[3 * mid]) hi = mid - 1;
            else if (cp > runs[3 * mid + 1]) lo = mid + 1;
            else return runs[3 * mid + 2];
        }
        return 0;
    }

    // The ranges BERT's original code (and the Rust port) calls "Chinese characters". The Rust port has
    // 0x2B920 where Google's Python has 0x2B820; the Rust value is the one Hugging Face's fast tokenizers use.
    internal static bool IsCjk(int cp) =>
        cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF)
            or (>= 0x2A700 and <= 0x2B73F) or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B920 and <= 0x2CEAF)
            or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);

    internal static bool IsRustWhitespace(int cp) =>
        cp is (>= 0x9 and <= 0xD) or 0x20 or 0x85 or 0xA0 or 0x1680 or (>= 0x2000 and <= 0x200A)
            or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000;

    private static CharClass ClassifyAstral(int cp)
    {
        var c = CharClass.None;
        if (InRanges(Dropped, cp)) c |= CharClass.Dropped;
        if (InRanges(Punctuation, cp)) c |= CharClass.Punctuation;
        if (InRanges(NonspacingMarks, cp)) c |= CharClass.NonspacingMark;
        if (IsCjk(cp)) c |= CharClass.Cjk;
        return c;
    }

    private static bool InRanges(ReadOnlySpan<int> ranges, int cp)
    {
        int lo = 0, hi = ranges.Length / 2 - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (cp < ranges[2 * mid]) hi = mid - 1;
            else if (cp > ranges[2 * mid + 1]) lo = mid + 1;
            else return true;
        }
        return false;
    }

    private static byte[] BuildBmpClasses()
    {
        var t = new byte[0x10000];
        Mark(t, Dropped, CharClass.Dropped);
        Mark(t, Punctuation, CharClass.Punctuation);
        Mark(t, NonspacingMarks, CharClass.NonspacingMark);
        foreach (int cp in CleanTextSpaces)
            t[cp] |= (byte)CharClass.CleanSpace;
        for (int cp = 0; cp < 0x10000; cp++)
        {
            if (IsCjk(cp)) t[cp] |= (byte)CharClass.Cjk;
            if (IsRustWhitespace(cp)) t[cp] |= (byte)CharClass.Whitespace;
        }
        var expanding = LowercaseExpanding;
        for (int i = 0; i < expanding.Length; i += 2 + expanding[i + 1])
            if (expanding[i] < 0x10000)
                t[expanding[i]] |= (byte)CharClass.LowerExpands;
        return t;

        static void Mark(byte[] table, ReadOnlySpan<int> ranges, CharClass flag)
        {
            for (int i = 0; i < ranges.Length; i += 2)
                for (int cp = ranges[i]; cp <= ranges[i + 1] && cp < 0x10000; cp++)
                    table[cp] |= (byte)flag;
        }
    }

    private static Dictionary<int, int> BuildDecompositionIndex(out int maxLength)
    {
        var index = new Dictionary<int, int>(2200);
        maxLength = 3; // Hangul LVT
        var table = Decompositions;
        for (int i = 0; i < table.Length; i += 2 + table[i + 1])
        {
            index.Add(table[i], i + 1);
            maxLength = Math.Max(maxLength, table[i + 1]);
        }
        return index;
    }

    private static byte[] BuildBmpCombiningRank()
    {
        var t = new byte[0x10000];
        var runs = CombiningClassRuns;
        for (int i = 0; i < runs.Length; i += 3)
            for (int cp = runs[i]; cp <= runs[i + 1] && cp < 0x10000; cp++)
                t[cp] = checked((byte)runs[i + 2]);
        return t;
    }

    private static char[] BuildBmpLower(out int[] astral)
    {
        var bmp = new char[0x10000];
        for (int i = 0; i < bmp.Length; i++) bmp[i] = (char)i;
        var astralPairs = new List<(int From, int To)>();
        var runs = LowercaseRuns;
        for (int r = 0; r < runs.Length; r += 4)
        {
            int first = runs[r], count = runs[r + 1], stride = runs[r + 2], delta = runs[r + 3];
            for (int k = 0; k < count; k++)
            {
                int cp = first + k * stride, lower = cp + delta;
                if (cp < 0x10000 && lower < 0x10000)
                    bmp[cp] = (char)lower;
                else if (cp >= 0x10000)
                    astralPairs.Add((cp, lower));
                else
                    throw new InvalidOperationException($"U+{cp:X4} lowercases outside the BMP; the table layout cannot hold it.");
            }
        }
        astralPairs.Sort();
        astral = new int[astralPairs.Count * 2];
        for (int i = 0; i < astralPairs.Count; i++)
        {
            astral[2 * i] = astralPairs[i].From;
            astral[2 * i + 1] = astralPairs[i].To;
        }
        return bmp;
    }
}
