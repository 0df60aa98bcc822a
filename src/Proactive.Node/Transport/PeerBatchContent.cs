using System.Net;
using System.Net.Http.Headers;

namespace Proactive.Node.Transport;

/// <summary>
/// A <see cref="PeerBatch"/> as a request body, written frame by frame (no joined copy) and with a known
/// length. It can be written more than once, as HttpClient may resend a request on a fresh connection.
/// </summary>
internal sealed class PeerBatchContent : HttpContent
{
    private readonly IReadOnlyList<ReadOnlyMemory<byte>> _frames;
    private readonly long _length;

    public PeerBatchContent(IReadOnlyList<ReadOnlyMemory<byte>> frames)
    {
        PeerBatch.ThrowIfNotEncodable(frames);
        _frames = frames;
        _length = PeerBatch.EncodedLength(frames);
        Headers.ContentType = new MediaTypeHeaderValue(PeerBatch.MediaType);
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        PeerBatch.WriteAsync(stream, _frames, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        PeerBatch.WriteAsync(stream, _frames, cancellationToken);

    protected override bool TryComputeLength(out long length)
    {
        length = _length;
        return true;
    }
}
