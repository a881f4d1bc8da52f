namespace BertSharp.Data;

/// <summary>
/// NumPy's <c>default_rng(seed).permutation(n)</c>, bit for bit, so that a subset picked here is the same subset a
/// Python user gets from <c>datasets</c>' <c>shuffle(seed=...)</c>: results stay comparable across the two stacks.
/// </summary>
public static class NumpyRandom
{
    /// <summary>Equals <c>numpy.random.default_rng(seed).permutation(n)</c>.</summary>
    public static int[] Permutation(ulong seed, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        var result = new int[n];
        for (var i = 0; i < n; i++)
            result[i] = i;
        var rng = Pcg64.FromSeed(seed);
        // Generator.shuffle's loop: Fisher-Yates from the end, one bounded draw per position.
        for (var i = n - 1; i >= 1; i--)
        {
            var j = (int)rng.RandomInterval((ulong)i);
            (result[i], result[j]) = (result[j], result[i]);
        }
        return result;
    }
}

/// <summary>NumPy's <c>SeedSequence</c> with the default pool of four 32-bit words and no spawn key.</summary>
internal static class SeedSequence
{
    private const int PoolSize = 4;
    private const uint InitA = 0x43b0d7e5;
    private const uint MultA = 0x931e8875;
    private const uint InitB = 0x8b51f9dd;
    private const uint MultB = 0x58f38ded;
    private const uint MixMultL = 0xca01f9dd;
    private const uint MixMultR = 0x4973f715;
    private const int XShift = 16;

    /// <summary>Like <c>SeedSequence(seed).generate_state(words64, np.uint64)</c>.</summary>
    public static ulong[] GenerateState64(ulong seed, int words64)
    {
        var words32 = GenerateState32(seed, words64 * 2);
        var result = new ulong[words64];
        // NumPy views the uint32 stream as little-endian uint64s: the even word is the low half.
        for (var i = 0; i < words64; i++)
            result[i] = words32[2 * i] | ((ulong)words32[2 * i + 1] << 32);
        return result;
    }

    /// <summary>Like <c>SeedSequence(seed).generate_state(words, np.uint32)</c>.</summary>
    public static uint[] GenerateState32(ulong seed, int words)
    {
        var pool = MixEntropy(EntropyWords(seed));
        var state = new uint[words];
        var hashConst = InitB;
        for (var i = 0; i < words; i++)
        {
            var value = pool[i % PoolSize];
            value ^= hashConst;
            hashConst *= MultB;
            value *= hashConst;
            value ^= value >> XShift;
            state[i] = value;
        }
        return state;
    }

    // NumPy splits a Python int into 32-bit words, least significant first; zero is one word, not none.
    private static uint[] EntropyWords(ulong seed) =>
        seed >> 32 == 0 ? [(uint)seed] : [(uint)seed, (uint)(seed >> 32)];

    private static uint[] MixEntropy(uint[] entropy)
    {
        var pool = new uint[PoolSize];
        var hashConst = InitA;
        for (var i = 0; i < PoolSize; i++)
            pool[i] = HashMix(i < entropy.Length ? entropy[i] : 0u, ref hashConst);
        for (var src = 0; src < PoolSize; src++)
            for (var dst = 0; dst < PoolSize; dst++)
                if (src != dst)
                    pool[dst] = Mix(pool[dst], HashMix(pool[src], ref hashConst));
        for (var src = PoolSize; src < entropy.Length; src++)
            for (var dst = 0; dst < PoolSize; dst++)
                pool[dst] = Mix(pool[dst], HashMix(entropy[src], ref hashConst));
        return pool;
    }

    private static uint HashMix(uint value, ref uint hashConst)
    {
        value ^= hashConst;
        hashConst *= MultA;
        value *= hashConst;
        value ^= value >> XShift;
        return value;
    }

    private static uint Mix(uint x, uint y)
    {
        var result = MixMultL * x - MixMultR * y;
        result ^= result >> XShift;
        return result;
    }
}

/// <summary>NumPy's <c>PCG64</c> bit generator (PCG XSL-RR 128/64), including its buffered 32-bit draws.</summary>
internal sealed class Pcg64
{
    private static readonly UInt128 Multiplier = new(0x2360ed051fc65da4UL, 0x4385df649fccf645UL);

    private UInt128 _state;
    private readonly UInt128 _increment;
    private bool _hasUInt32;
    private uint _uinteger;

    private Pcg64(UInt128 initState, UInt128 initSequence)
    {
        // pcg_setseq_128_srandom_r: the seed is added between two steps so that nearby seeds diverge at once.
        _increment = (initSequence << 1) | 1;
        _state = 0;
        Step();
        _state += initState;
        Step();
    }

    /// <summary>Seeds the way <c>PCG64(seed)</c> does: four uint64 words from the SeedSequence, state then increment, high word first.</summary>
    public static Pcg64 FromSeed(ulong seed)
    {
        var words = SeedSequence.GenerateState64(seed, 4);
        return new Pcg64(new UInt128(words[0], words[1]), new UInt128(words[2], words[3]));
    }

    private void Step() => _state = _state * Multiplier + _increment;

    public ulong NextUInt64()
    {
        Step();
        var high = (ulong)(_state >> 64);
        var low = (ulong)_state;
        var rotation = (int)(_state >> 122);
        return ulong.RotateRight(high ^ low, rotation);
    }

    public uint NextUInt32()
    {
        // NumPy spends one 64-bit output on two 32-bit draws: low half now, high half next time.
        if (_hasUInt32)
        {
            _hasUInt32 = false;
            return _uinteger;
        }
        var next = NextUInt64();
        _hasUInt32 = true;
        _uinteger = (uint)(next >> 32);
        return (uint)next;
    }

    /// <summary>NumPy's <c>random_interval</c>: uniform in [0, max] by masking and rejecting, no modulo bias.</summary>
    public ulong RandomInterval(ulong max)
    {
        if (max == 0)
            return 0;
        var mask = max;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        mask |= mask >> 32;
        ulong value;
        if (max <= uint.MaxValue)
        {
            while ((value = NextUInt32() & mask) > max) { }
        }
        else
        {
            while ((value = NextUInt64() & mask) > max) { }
        }
        return value;
    }
}
