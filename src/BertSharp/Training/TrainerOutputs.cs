namespace BertSharp.Training;

/// <summary>
/// What <see cref="Trainer.Train"/> returns: the step count, mean training loss, the run's speed, and how many steps this
/// call ran (0 when it resumed from the checkpoint that ended its run).
/// </summary>
public sealed record TrainOutput(int GlobalStep, double TrainingLoss, IReadOnlyDictionary<string, double> Metrics, int StepsRun);

/// <summary>Reported after every optimizer step, for progress bars and live charts.</summary>
/// <remarks>
/// <see cref="Loss"/> and <see cref="GradNorm"/> are null on a GPU except where the step was logged: reading them back
/// every step would stall the device (see <see cref="TrainerState.LogHistory"/> for the logged values).
/// </remarks>
public sealed record StepProgress(int GlobalStep, int MaxSteps, double Epoch, double? Loss, double? GradNorm, double LearningRate);

/// <summary>Reported while evaluating or predicting: batches done out of the total.</summary>
public sealed record EvaluationProgress(string Prefix, int BatchesDone, int TotalBatches);

/// <summary>Training stopped because the loss or the gradient stopped being a finite number.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
