// The credentials tests check Unix file modes, and the linked node test support is Linux-only: the SDK is tested on Linux.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
