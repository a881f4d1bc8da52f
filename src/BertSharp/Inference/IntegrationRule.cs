namespace BertSharp.Inference;

/// <summary>How Integrated Gradients approximates its path integral over α ∈ [0, 1] (Captum's <c>method</c>).</summary>
public enum IntegrationMethod
{
    /// <summary>Gauss–Legendre nodes and weights: exact for polynomials of degree up to 2·steps − 1 (Captum's default).</summary>
    GaussLegendre,

    /// <summary>Evenly spaced α from 0 to 1 with the end points weighted half (Captum's <c>riemann_trapezoid</c>).</summary>
    RiemannTrapezoid,
}

/// <summary>The points α and weights w with ∫₀¹ f(α) dα ≈ Σ wᵢ f(αᵢ); the weights always sum to 1.</summary>
public static class IntegrationRule
{
    public static (double[] Alphas, double[] Weights) Points(IntegrationMethod method, int steps) => method switch
    {
        IntegrationMethod.GaussLegendre => GaussLegendre(steps),
        IntegrationMethod.RiemannTrapezoid => RiemannTrapezoid(steps),
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown integration method."),
    };

    /// <summary>Trapezoid rule on <paramref name="steps"/> evenly spaced points including both ends.</summary>
    public static (double[] Alphas, double[] Weights) RiemannTrapezoid(int steps)
    {
        if (steps < 2) throw new ArgumentOutOfRangeException(nameof(steps), steps, "The trapezoid rule needs at least 2 steps (both ends of the path).");
        var alphas = new double[steps];
        var weights = new double[steps];
        for (var i = 0; i < steps; i++)
        {
            alphas[i] = (double)i / (steps - 1);
            weights[i] = (i == 0 || i == steps - 1 ? 0.5 : 1.0) / (steps - 1);
        }
        return (alphas, weights);
    }

    /// <summary>
    /// Gauss–Legendre on [0, 1]: the roots of the Legendre polynomial Pₙ found by Newton's method from Tricomi's
    /// initial guesses, with weights 2 / ((1 − x²) Pₙ'(x)²), mapped from [−1, 1].
    /// </summary>
    public static (double[] Alphas, double[] Weights) GaussLegendre(int steps)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "Gauss–Legendre needs at least 1 step.");
        var n = steps;
        var alphas = new double[n];
        var weights = new double[n];
        for (var i = 0; i < (n + 1) / 2; i++)
        {
            var x = Math.Cos(Math.PI * (i + 0.75) / (n + 0.5));
            for (var iteration = 0; iteration < 100; iteration++)
            {
                var (p, dp) = Legendre(n, x);
                var dx = p / dp;
                x -= dx;
                if (Math.Abs(dx) < 1e-15) break;
            }
            var derivative = Legendre(n, x).Derivative;
            var w = 2 / ((1 - x * x) * derivative * derivative);
            // Roots come in ± pairs (x = 0 for odd n is its own pair); ascending α.
            alphas[i] = (1 - x) / 2;
            alphas[n - 1 - i] = (1 + x) / 2;
            weights[i] = weights[n - 1 - i] = w / 2;
        }
        return (alphas, weights);
    }

    /// <summary>Pₙ(x) and Pₙ'(x) by Bonnet's recurrence.</summary>
    private static (double Value, double Derivative) Legendre(int n, double x)
    {
        double previous = 1, current = x;
        for (var k = 2; k <= n; k++)
        {
            var next = ((2 * k - 1) * x * current - (k - 1) * previous) / k;
            previous = current;
            current = next;
        }
        if (n == 0) return (1, 0);
        return (current, n * (x * current - previous) / (x * x - 1));
    }
}
