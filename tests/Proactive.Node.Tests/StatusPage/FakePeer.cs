using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Proactive.Node.Tests.StatusPage;

/// <summary>
/// A peer API that misbehaves on a real loopback socket: it answers every request with the same raw
/// bytes, or accepts connections and never answers. It counts the requests it read.
/// </summary>
internal sealed class FakePeer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _held = [];
    private readonly byte[]? _answer;
    private readonly Task _accepting;
    private int _requests;

    private FakePeer(byte[]? answer)
    {
        _answer = answer;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public string Api => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/";

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Answers every request with status 200 and <paramref name="body"/> (as JSON).</summary>
    public static FakePeer Answering(string body, int status = 200) =>
        new(Encoding.UTF8.GetBytes($"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\nConnection: close\r\n\r\n{body}"));

    /// <summary>Answers every request with <paramref name="bytes"/> of JSON-looking filler, chunked (no length announced).</summary>
    public static FakePeer AnsweringChunked(int bytes)
    {
        var chunk = new string(' ', bytes);
        return new(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{bytes:x}\r\n{chunk}\r\n0\r\n\r\n"));
    }

    /// <summary>Accepts connections, reads the requests, never answers.</summary>
    public static FakePeer Silent() => new(null);

    /// <summary>A port nothing listens on (bound, then released).</summary>
    public static string ClosedApi()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"http://127.0.0.1:{port}/";
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        lock (_held)
        {
            foreach (var client in _held)
            {
                client.Dispose();
            }
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        lock (_held)
        {
            _held.Add(client);
        }

        try
        {
            var stream = client.GetStream();
            var request = new List<byte>();
            var buffer = new byte[4096];
            while (!EndsWithBlankLine(request))
            {
                var read = await stream.ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    return;
                }

                request.AddRange(buffer.AsSpan(0, read));
            }

            Interlocked.Increment(ref _requests);
            if (_answer is null)
            {
                await Task.Delay(Timeout.Infinite, _stop.Token);
                return;
            }

            await stream.WriteAsync(_answer, _stop.Token);
            client.Client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }
    }

    private static bool EndsWithBlankLine(List<byte> bytes) =>
        bytes.Count >= 4 && bytes[^4] == '\r' && bytes[^3] == '\n' && bytes[^2] == '\r' && bytes[^1] == '\n';
}
