using System.Net.Http.Headers;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using SyncHub.Core.Configuration;

namespace SyncHub.Core.Webhooks;

/// <summary>The outcome of one POST: delivered (2xx) or why not (status, timeout, connection error). Never the body.</summary>
public sealed record SendResult(bool Delivered, int Status, string? Error);

/// <summary>
/// POSTs one webhook to one URL: signed (<c>X-Nango-Hmac-Sha256</c> = hex HMAC-SHA256 of the raw body, legacy
/// <c>X-Nango-Signature</c> = hex SHA-256 of key + body), with its delivery id, no redirects followed, at most
/// 64 KiB of the answer read. Logs and errors never hold the body or the key.
/// </summary>
public sealed class WebhookSender : IDisposable
{
    public const int MaxResponseBytes = 64 * 1024;

    public static readonly string UserAgent = "SyncHub/" +
        (typeof(WebhookSender).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
         ?? typeof(WebhookSender).Assembly.GetName().Version?.ToString() ?? "1.0.0");

    private readonly HttpClient _http;
    private readonly byte[] _key;

    public WebhookSender(IOptions<WebhookOptions> options, IOptions<SyncHubOptions> hub)
    {
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        })
        { Timeout = options.Value.Timeout };
        _key = Encoding.UTF8.GetBytes(options.Value.ResolvedSigningKey(hub.Value));
    }

    public static string HmacSignature(byte[] key, byte[] body) => Convert.ToHexStringLower(HMACSHA256.HashData(key, body));

    public static string LegacySignature(byte[] key, byte[] body)
    {
        var all = new byte[key.Length + body.Length];
        key.CopyTo(all, 0);
        body.CopyTo(all, key.Length);
        return Convert.ToHexStringLower(SHA256.HashData(all));
    }

    public async Task<SendResult> SendAsync(Uri url, string deliveryId, string body, CancellationToken ct)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        request.Headers.Add("X-Nango-Hmac-Sha256", HmacSignature(_key, bytes));
        request.Headers.Add("X-Nango-Signature", LegacySignature(_key, bytes));
        request.Headers.Add("X-SyncHub-Delivery", deliveryId);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            await DrainAsync(response, ct);
            var status = (int)response.StatusCode;
            return status is >= 200 and < 300 ? new SendResult(true, status, null)
                : status is >= 300 and < 400 ? new SendResult(false, status, $"answered {status} (a redirect; redirects are not followed)")
                : new SendResult(false, status, $"answered {status}");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new SendResult(false, 0, $"no answer within {_http.Timeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException e)
        {
            return new SendResult(false, 0, e.HttpRequestError == HttpRequestError.ConnectionError
                ? "could not connect" : $"request failed ({e.HttpRequestError})");
        }
    }

    /// <summary>Reads (and drops) at most 64 KiB of the answer, so a huge or endless one costs nothing.</summary>
    private static async Task DrainAsync(HttpResponseMessage response, CancellationToken ct)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[8192];
        var total = 0;
        int read;
        while (total < MaxResponseBytes && (read = await stream.ReadAsync(buffer.AsMemory(0, Math.Min(buffer.Length, MaxResponseBytes - total)), ct)) > 0)
        {
            total += read;
        }
    }

    public void Dispose() => _http.Dispose();
}
