using System.Diagnostics;

namespace SyncHub.Tests.Infrastructure;

/// <summary>Thrown by <see cref="Eventually"/> at its deadline: names what was awaited and the last state observed.</summary>
public sealed class EventuallyTimeoutException(string message) : TimeoutException(message);

/// <summary>
/// The one way tests wait: poll for the state they need, with a short interval, and fail at a generous deadline with
/// a message naming what was awaited and the last state observed. Never a fixed sleep as synchronisation.
/// </summary>
public static class Eventually
{
    /// <summary>Generous: the CI machine is a loaded 2-core box; a passing test never waits for it.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Between two polls of an in-process state (callers polling over HTTP may pass a longer one).</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>Waits until <paramref name="condition"/> holds; <paramref name="state"/> describes what was last seen.</summary>
    public static async Task Until(Func<Task<bool>> condition, string awaited, TimeSpan? timeout = null, Func<string>? state = null, TimeSpan? interval = null) =>
        await Value(condition, met => met, awaited, timeout, _ => state?.Invoke() ?? "the condition was false", interval);

    /// <inheritdoc cref="Until(Func{Task{bool}}, string, TimeSpan?, Func{string}?, TimeSpan?)"/>
    public static Task Until(Func<bool> condition, string awaited, TimeSpan? timeout = null, Func<string>? state = null, TimeSpan? interval = null) =>
        Until(() => Task.FromResult(condition()), awaited, timeout, state, interval);

    /// <summary>
    /// Fetches a value until it satisfies <paramref name="predicate"/>, and returns it. An exception thrown by
    /// <paramref name="fetch"/> (e.g. a failed assertion) ends the wait at once.
    /// </summary>
    public static async Task<T> Value<T>(
        Func<Task<T>> fetch, Func<T, bool> predicate, string awaited, TimeSpan? timeout = null, Func<T, string>? describe = null, TimeSpan? interval = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var watch = Stopwatch.StartNew();
        var polls = 0;
        while (true)
        {
            var value = await fetch();
            polls++;
            if (predicate(value))
            {
                return value;
            }
            if (watch.Elapsed >= limit)
            {
                var last = describe is null ? (value?.ToString() ?? "null") : describe(value);
                throw new EventuallyTimeoutException($"Timed out after {watch.Elapsed.TotalSeconds:F1} s ({polls} polls) waiting for {awaited}. Last observed: {last}");
            }
            // The polling interval: the only fixed wait, between two looks at the state awaited.
            await Task.Delay(interval ?? DefaultInterval);
        }
    }

    /// <inheritdoc cref="Value{T}(Func{Task{T}}, Func{T, bool}, string, TimeSpan?, Func{T, string}?, TimeSpan?)"/>
    public static Task<T> Value<T>(Func<T> fetch, Func<T, bool> predicate, string awaited, TimeSpan? timeout = null, Func<T, string>? describe = null, TimeSpan? interval = null) =>
        Value(() => Task.FromResult(fetch()), predicate, awaited, timeout, describe, interval);

    /// <summary>
    /// Runs <paramref name="probe"/> repeatedly for a fixed <paramref name="duration"/>: for a test whose scenario has
    /// a length of its own (e.g. how long storage stays down), where there is no event to wait for instead.
    /// <paramref name="why"/> says why it cannot be an event. Returns how many probes ran (at least one).
    /// </summary>
    public static async Task<int> During(TimeSpan duration, Func<Task> probe, string why, TimeSpan? interval = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(why);
        var watch = Stopwatch.StartNew();
        var probes = 0;
        do
        {
            await probe();
            probes++;
            // The pace of the probes within the fixed duration (see why).
            await Task.Delay(interval ?? DefaultInterval);
        }
        while (watch.Elapsed < duration);
        return probes;
    }
}
