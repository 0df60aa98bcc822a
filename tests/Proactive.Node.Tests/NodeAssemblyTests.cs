using Proactive.Node;

namespace Proactive.Node.Tests;

public sealed class NodeAssemblyTests
{
    [Fact]
    public void Version_IsReported() => Assert.False(string.IsNullOrEmpty(NodeAssembly.Version));
}
