// The tests read the pure parts (backoff, wire format, close rules, endpoints) directly.

using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Pairlink.Client.Tests")]
