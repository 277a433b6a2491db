using Microsoft.Extensions.Options;

namespace SyncHub.Core.Scheduling;

/// <summary>Validates <see cref="SchedulingOptions"/> when the host starts; each problem names its setting.</summary>
public sealed class SchedulingOptionsValidator : IValidateOptions<SchedulingOptions>
{
    public ValidateOptionsResult Validate(string? name, SchedulingOptions options)
    {
        var problems = Problems(options).ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    private static IEnumerable<string> Problems(SchedulingOptions options)
    {
        if (options.LeaseDuration <= TimeSpan.Zero)
        {
            yield return "SyncHub__Scheduling__LeaseDuration must be positive.";
        }
        if (options.RunBudget <= TimeSpan.Zero)
        {
            yield return "SyncHub__Scheduling__RunBudget must be positive.";
        }
        if (options.MaxDuePerTick < 1)
        {
            yield return "SyncHub__Scheduling__MaxDuePerTick must be 1 or more.";
        }
        if (string.IsNullOrWhiteSpace(options.RunQueue))
        {
            yield return $"{SchedulingOptions.RunQueueSetting} must name a queue.";
        }
    }
}
