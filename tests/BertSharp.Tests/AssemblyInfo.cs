// libtorch's random generator is process-wide: a test that seeds it and trains must not share the process with
// another test drawing from it at the same moment (weight init, dropout), or "same seed, same run" stops holding.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
