// The storage tests check Unix file modes, hard links and fsync: the node runs on Linux.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
