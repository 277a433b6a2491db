using Microsoft.Extensions.Options;

namespace SyncHub.Core.Configuration;

/// <summary>
/// Validates <see cref="SyncHubOptions"/> when the host starts (<c>ValidateOnStart</c>): every problem of
/// <see cref="SyncHubOptions.Problems"/> at once, each naming its setting, never echoing a secret.
/// </summary>
public sealed class SyncHubOptionsValidator : IValidateOptions<SyncHubOptions>
{
    public ValidateOptionsResult Validate(string? name, SyncHubOptions options)
    {
        var problems = options.Problems().ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
