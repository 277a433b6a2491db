using Xunit;

namespace RunnerCheck;

// A test host that dies mid-run: VSTest may still print "Passed!" for the tests that ran before it, then
// "Test Run Aborted". The runner must call that a failure.
public class CrashTests
{
    [Fact]
    public void TestHostCrashes() => Environment.FailFast("runner-check: a deliberate test host crash");
}
