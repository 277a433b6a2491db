using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using SyncHub.Core.Model;

namespace SyncHub.Core.Api;

/// <summary>Success responses: JSON bodies, and the empty 200 several sync endpoints return.</summary>
public static class ApiResults
{
    public static IResult Json(JsonNode body, int status = 200) =>
        Results.Text(body.ToJsonString(JsonOutput.Options), "application/json; charset=utf-8", Encoding.UTF8, status);

    public static IResult EmptyOk() => Results.StatusCode(200);
}
