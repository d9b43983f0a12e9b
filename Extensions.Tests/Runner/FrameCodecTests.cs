using Extensions.Modules.Runner.Contracts;
using Extensions.Modules.Runner.Protocol;

namespace Extensions.Tests.Runner;

[TestFixture]
public sealed class FrameCodecTests
{
    [Test]
    public async Task Execute_RoundTripsEveryField_WithRawBodyBytes()
    {
        var body = new byte[] { 0, 1, 2, 255, 254 };
        var request = new InvocationRequest
        {
            TenantId = "t", ExtensionId = "p.n", InstallId = "i", Version = "1.0.0", RequestId = "r",
            ModuleHash = "sha256:00", ModulePath = "/m.wasm",
            Limits = new InvocationLimits(123, 456, 789, 1000, 2000),
            Request = new GuestHttpRequest("POST", "/a/b", "x=1", [new("content-type", "text/plain")], [new("name", "Ünï")], body),
            Context = [new("tenant", "t")],
            Config = [new("k", "\"v\"")],
            Grants = new HashSet<string> { "cap:log" },
        };
        using var stream = new MemoryStream(Messages.Execute(42, request, "sha256:11", "/a.cwasm"));

        var frame = await FrameCodec.ReadAsync(stream, 1024, CancellationToken.None);
        var message = Messages.ReadExecute(frame!.Value.Payload.Span);

        Assert.That(frame.Value.Kind, Is.EqualTo(FrameKind.Execute));
        Assert.That(frame.Value.InvocationId, Is.EqualTo(42UL));
        Assert.That(message.Request.Body, Is.EqualTo(body));
        Assert.That(message.Request.Params.Single().Value, Is.EqualTo("Ünï"));
        Assert.That(message.Limits, Is.EqualTo(request.Limits));
        Assert.That(message.Grants, Is.EquivalentTo(request.Grants));
        Assert.That(message.Config.Single().Value, Is.EqualTo("\"v\""));
        Assert.That(message.ArtifactHash, Is.EqualTo("sha256:11"));
        Assert.That(message.ArtifactPath, Is.EqualTo("/a.cwasm"));
    }

    [Test]
    public void Frame_OverTheSizeLimit_IsAProtocolError()
    {
        using var stream = new MemoryStream(FrameCodec.Encode(FrameKind.Result, 1, new byte[2048]));

        var ex = Assert.ThrowsAsync<ProtocolException>(async () => await FrameCodec.ReadAsync(stream, 1024, CancellationToken.None));
        Assert.That(ex!.Message, Does.Contain("length"));
    }

    [Test]
    public void Frame_WithUnknownKind_IsAProtocolError()
    {
        var bytes = FrameCodec.Encode(FrameKind.Ping, 1, []);
        bytes[4] = 200;
        using var stream = new MemoryStream(bytes);

        Assert.ThrowsAsync<ProtocolException>(async () => await FrameCodec.ReadAsync(stream, 1024, CancellationToken.None));
    }

    [Test]
    public void Frame_TruncatedMidway_IsAProtocolError()
    {
        var bytes = FrameCodec.Encode(FrameKind.Result, 1, new byte[100]);
        using var stream = new MemoryStream(bytes[..50]);

        Assert.ThrowsAsync<ProtocolException>(async () => await FrameCodec.ReadAsync(stream, 1024, CancellationToken.None));
    }

    [Test]
    public void Payload_WithLengthPastItsEnd_IsAProtocolError()
    {
        var payload = new PayloadWriter().I32(1_000_000).WrittenSpan.ToArray();

        Assert.Throws<ProtocolException>(() => new PayloadReader(payload).String());
    }
}
