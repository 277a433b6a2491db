using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using SyncHub.Core.Telemetry;

namespace SyncHub.Tests.Telemetry;

/// <summary>One measurement of a SyncHub instrument, with its tags.</summary>
public sealed record Measured(string Instrument, double Value, IReadOnlyDictionary<string, string?> Tags)
{
    public string? this[string tag] => Tags.GetValueOrDefault(tag);
}

/// <summary>
/// Listens to the <c>SyncHub</c> meter and activity source and keeps only what this test caused. Tests run in parallel in
/// one process and share the static instruments, so the capture starts an activity of its own (the test's trace) and keeps
/// the measurements recorded while the current activity belongs to that trace, and the SyncHub activities under it: the
/// runs this test pumps are children of it (Activity.Current flows with the awaits), another test's are not.
/// </summary>
public sealed class TelemetryCapture : IDisposable
{
    private readonly Activity _root;
    private readonly MeterListener _meters = new();
    private readonly ActivityListener _activities;
    private readonly ConcurrentQueue<Measured> _measured = new();
    private readonly ConcurrentQueue<Activity> _stopped = new();

    public TelemetryCapture()
    {
        _root = new Activity("SyncHub.Tests.Telemetry").SetIdFormat(ActivityIdFormat.W3C).Start();
        var traceId = _root.TraceId;
        _activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == SyncHubTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.TraceId == traceId)
                {
                    _stopped.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_activities);

        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == SyncHubTelemetry.Name)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _meters.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _meters.Start();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (Activity.Current?.TraceId != _root.TraceId)
        {
            return;
        }
        var copy = new Dictionary<string, string?>();
        foreach (var (key, tagValue) in tags)
        {
            copy[key] = tagValue?.ToString();
        }
        _measured.Enqueue(new Measured(instrument.Name, value, copy));
    }

    public IReadOnlyList<Measured> Measurements => [.. _measured];

    /// <summary>The SyncHub activities of this test that have ended.</summary>
    public IReadOnlyList<Activity> Activities => [.. _stopped];

    /// <summary>The measurements of <paramref name="instrument"/> whose tags include every pair of <paramref name="tags"/>.</summary>
    public IReadOnlyList<Measured> Of(string instrument, params (string Key, string Value)[] tags) =>
        [.. _measured.Where(m => m.Instrument == instrument && tags.All(t => m[t.Key] == t.Value))];

    /// <summary>The sum of a counter's measurements with these tags.</summary>
    public double Sum(string instrument, params (string Key, string Value)[] tags) => Of(instrument, tags).Sum(m => m.Value);

    public void Dispose()
    {
        _meters.Dispose();
        _root.Stop();
        _activities.Dispose();
    }
}
