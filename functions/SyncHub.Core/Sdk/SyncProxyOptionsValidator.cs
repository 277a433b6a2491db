using Microsoft.Extensions.Options;

namespace SyncHub.Core.Sdk;

/// <summary>Validates <see cref="SyncProxyOptions"/> (when the host starts, and on first use): each problem names its setting.</summary>
public sealed class SyncProxyOptionsValidator : IValidateOptions<SyncProxyOptions>
{
    public ValidateOptionsResult Validate(string? name, SyncProxyOptions options)
    {
        var problems = options.Problems().ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
