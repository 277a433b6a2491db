using System.Text.RegularExpressions;
using SyncHub.Core.Api;
using SyncHub.Core.Scheduling;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using SyncHub.Core.Model;

namespace SyncHub.Core.Configuration;

/// <summary>
/// An invalid configuration: for a file, the message names the file, the line and the problem; for a setting, the
/// setting's name and the problem, never its value.
/// </summary>
public sealed class ConfigurationException(string message) : Exception(message);

/// <summary>
/// Loads the integrations and syncs of a nango.yaml (v2 format, plus SyncHub's <c>provider</c>, <c>base_url</c> and
/// <c>oauth</c> keys). Strict: an unknown key, a bad name or a bad frequency stops start-up with its path and line.
/// </summary>
/// <remarks>
/// <c>oauth.client_id</c> and <c>oauth.client_secret</c> are <c>${NAME}</c> placeholders resolved by position from
/// settings: client_id from <c>SyncHub__Integrations__&lt;key&gt;__ClientId</c>, client_secret from
/// <c>SyncHub__Integrations__&lt;key&gt;__ClientSecret</c> (NAME only documents what the value is). A client_id may also
/// be written as it is; a client_secret may not (secrets never live in the file). An unset setting stops start-up with
/// a message naming it, never a value.
/// </remarks>
public static partial class NangoYamlLoader
{
    private static readonly string[] RootKeys = ["integrations", "models"];
    private static readonly string[] IntegrationKeys = ["provider", "base_url", "display_name", "syncs", "actions", "oauth"];
    private static readonly string[] OAuthKeys = ["token_url", "client_id", "client_secret", "auth_style", "refresh_margin"];
    private static readonly string[] SyncKeys =
        ["runs", "output", "sync_type", "auto_start", "track_deletes", "description", "endpoint", "scopes", "version", "input",
         "request", "paginate", "records", "id", "fields", "skip_when", "incremental"];

    /// <param name="settings">Reads a setting by its app-setting name (<c>SyncHub__Integrations__hubspot__ClientId</c>); null when unset.</param>
    public static IntegrationCatalog Load(string path, Func<string, string?>? settings = null)
    {
        if (!File.Exists(path))
        {
            throw new ConfigurationException($"{path}: the integration config file does not exist (set SyncHub__ConfigPath).");
        }
        return Parse(File.ReadAllText(path), path, settings);
    }

    /// <inheritdoc cref="Load"/>
    public static IntegrationCatalog Parse(string yaml, string path, Func<string, string?>? settings = null)
    {
        var stream = new YamlStream();
        var parser = new Parser(new StringReader(yaml));
        try
        {
            stream.Load(parser);
        }
        catch (YamlException e)
        {
            var (line, column) = (e.Start.Line, e.Start.Column);
            if (line <= 1 && column <= 1 && e.Message.Contains("tab", StringComparison.OrdinalIgnoreCase) && FirstTabIndentedLine(yaml) is { } tabLine)
            {
                // YamlDotNet reports a tab used as indentation at 1:1; point at the offending line instead.
                (line, column) = (tabLine, 1);
            }
            throw new ConfigurationException($"{path}:{line}:{column}: invalid YAML: {e.InnerException?.Message ?? e.Message}");
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or NullReferenceException)
        {
            // YamlDotNet fails this way when the file ends inside an unclosed flow collection or quote: report where
            // the construct being parsed started.
            var mark = parser.Current?.Start;
            throw new ConfigurationException(
                $"{path}:{Math.Max(mark?.Line ?? 1, 1)}:{Math.Max(mark?.Column ?? 1, 1)}: invalid YAML: the file ends inside what starts here (an unclosed bracket or quote?).");
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new ConfigurationException($"{path}:1: the file must be a mapping with an 'integrations' key.");
        }
        var reader = new Reader(path, settings ?? (_ => null));
        reader.OnlyKeys(root, RootKeys, "the file");
        var integrationsNode = reader.Mapping(root, "integrations", required: true)!;
        var modelsNode = reader.Mapping(root, "models", required: false);
        var models = modelsNode?.Children.Keys.Select(reader.Scalar).ToHashSet(StringComparer.Ordinal);
        var integrations = new List<IntegrationDefinition>();
        foreach (var (keyNode, value) in integrationsNode.Children)
        {
            var key = reader.Scalar(keyNode);
            reader.Name(keyNode, key, Names.ProviderConfigKey(), "integration key");
            if (integrations.Any(i => i.Key == key))
            {
                throw reader.Error(keyNode, $"integration '{key}' is declared twice.");
            }
            integrations.Add(ReadIntegration(reader, key, value, models));
        }
        return new IntegrationCatalog(integrations, path);
    }

    private static int? FirstTabIndentedLine(string yaml)
    {
        var lines = yaml.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var indentation = lines[i][..(lines[i].Length - lines[i].TrimStart(' ', '\t').Length)];
            if (indentation.Contains('\t'))
            {
                return i + 1;
            }
        }
        return null;
    }

    private static IntegrationDefinition ReadIntegration(Reader reader, string key, YamlNode node, HashSet<string>? declaredModels)
    {
        var mapping = reader.AsMapping(node, $"integration '{key}'");
        reader.OnlyKeys(mapping, IntegrationKeys, $"integration '{key}'");
        var provider = reader.String(mapping, "provider") ?? key;
        var displayName = reader.String(mapping, "display_name") ?? provider;
        Uri? baseUrl = null;
        var baseUrlText = reader.String(mapping, "base_url");
        if (baseUrlText is not null)
        {
            if (!Uri.TryCreate(baseUrlText, UriKind.Absolute, out baseUrl) || baseUrl.Scheme is not ("http" or "https"))
            {
                throw reader.Error(mapping.Children[new YamlScalarNode("base_url")], $"base_url of integration '{key}' must be an absolute http(s) URL.");
            }
        }
        var syncs = new List<SyncDefinition>();
        var syncsNode = reader.Mapping(mapping, "syncs", required: false);
        if (syncsNode is not null)
        {
            foreach (var (nameNode, syncNode) in syncsNode.Children)
            {
                var name = reader.Scalar(nameNode);
                reader.Name(nameNode, name, Names.SyncName(), "sync name");
                if (syncs.Any(s => s.Name == name))
                {
                    throw reader.Error(nameNode, $"sync '{key}.{name}' is declared twice.");
                }
                syncs.Add(ReadSync(reader, key, name, nameNode, syncNode, declaredModels));
            }
        }
        var oauthNode = reader.Mapping(mapping, "oauth", required: false);
        var oauth = oauthNode is null ? null : ReadOAuth(reader, key, oauthNode);
        return new IntegrationDefinition(key, provider, displayName, baseUrl, syncs, oauth);
    }

    /// <summary>The setting a <c>${NAME}</c> in client_id / client_secret resolves to.</summary>
    public static string OAuthSetting(string integration, string field) =>
        $"SyncHub__Integrations__{integration}__{(field == "client_id" ? "ClientId" : "ClientSecret")}";

    [GeneratedRegex(@"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"^([0-9]{1,6})\s*(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?)$", RegexOptions.IgnoreCase)]
    private static partial Regex Duration();

    private static OAuthClientDefinition ReadOAuth(Reader reader, string key, YamlMappingNode mapping)
    {
        var where = $"oauth of integration '{key}'";
        reader.OnlyKeys(mapping, OAuthKeys, where);
        YamlNode NodeOf(string name) => mapping.Children[new YamlScalarNode(name)];

        var tokenUrlText = reader.String(mapping, "token_url") ?? throw reader.Error(mapping, $"{where} needs 'token_url'.");
        if (!Uri.TryCreate(tokenUrlText, UriKind.Absolute, out var tokenUrl) || tokenUrl.Scheme is not ("http" or "https"))
        {
            throw reader.Error(NodeOf("token_url"), $"token_url of {where} must be an absolute http(s) URL.");
        }
        string Client(string field)
        {
            var text = reader.String(mapping, field) ?? throw reader.Error(mapping, $"{where} needs '{field}' (e.g. '${{{key.ToUpperInvariant()}_{field.ToUpperInvariant()}}}').");
            if (!Placeholder().IsMatch(text))
            {
                if (field == "client_secret")
                {
                    throw reader.Error(NodeOf(field), $"client_secret of {where} must be a ${{NAME}} placeholder: secrets never live in nango.yaml (set {OAuthSetting(key, field)}).");
                }
                return text;
            }
            var setting = OAuthSetting(key, field);
            var value = reader.Setting(setting);
            if (string.IsNullOrWhiteSpace(value))
            {
                throw reader.Error(NodeOf(field), $"{field} of {where} is {text}, which reads the setting {setting}: it is not set.");
            }
            if (SyncHubOptions.UnresolvedKeyVaultReference(setting, value) is { } problem)
            {
                throw reader.Error(NodeOf(field), problem);
            }
            return value.Trim();
        }
        var clientId = Client("client_id");
        var clientSecret = Client("client_secret");

        var style = (reader.String(mapping, "auth_style") ?? "body").ToLowerInvariant() switch
        {
            "body" => OAuthAuthStyle.Body,
            "basic" => OAuthAuthStyle.Basic,
            _ => throw reader.Error(NodeOf("auth_style"), $"auth_style of {where} must be 'body' or 'basic'."),
        };
        var margin = OAuthClientDefinition.DefaultRefreshMargin;
        if (reader.String(mapping, "refresh_margin") is { } marginText)
        {
            var match = Duration().Match(marginText.Trim());
            if (!match.Success)
            {
                throw reader.Error(NodeOf("refresh_margin"), $"refresh_margin of {where} must be a duration such as '5 minutes', '90 seconds' or '1h'.");
            }
            var count = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            margin = char.ToLowerInvariant(match.Groups[2].Value[0]) switch
            {
                's' => TimeSpan.FromSeconds(count),
                'm' => TimeSpan.FromMinutes(count),
                _ => TimeSpan.FromHours(count),
            };
        }
        return new OAuthClientDefinition(tokenUrl, clientId, clientSecret, style, margin);
    }

    private static SyncDefinition ReadSync(Reader reader, string integration, string name, YamlNode nameNode, YamlNode node, HashSet<string>? declaredModels)
    {
        var where = $"sync '{integration}.{name}'";
        var mapping = reader.AsMapping(node, where);
        reader.OnlyKeys(mapping, SyncKeys, where);

        var runsText = reader.String(mapping, "runs") ?? throw reader.Error(nameNode, $"{where} needs 'runs' (e.g. 'every 30 minutes').");
        if (!Frequency.TryParse(runsText, out var runs, out var problem))
        {
            throw reader.Error(mapping.Children[new YamlScalarNode("runs")], $"{where}: runs: {problem}");
        }

        var models = new List<string>();
        if (!mapping.Children.TryGetValue(new YamlScalarNode("output"), out var output))
        {
            throw reader.Error(nameNode, $"{where} needs 'output' (one model name or a list).");
        }
        IEnumerable<YamlNode> outputs = output is YamlSequenceNode sequence ? sequence.Children : [output];
        foreach (var modelNode in outputs)
        {
            var model = reader.Scalar(modelNode);
            reader.Name(modelNode, model, Names.Model(), "model name");
            models.Add(model);
        }
        if (models.Count == 0)
        {
            throw reader.Error(output, $"{where}: output must name at least one model.");
        }

        var typeText = reader.String(mapping, "sync_type") ?? "full";
        var type = typeText.ToLowerInvariant() switch
        {
            "full" => SyncType.Full,
            "incremental" => SyncType.Incremental,
            _ => throw reader.Error(mapping.Children[new YamlScalarNode("sync_type")], $"{where}: sync_type must be 'full' or 'incremental'."),
        };
        var declarative = ReadDeclarative(reader, where, nameNode, mapping, output, models, type, declaredModels);
        return new SyncDefinition(integration, name, models, type, runs,
            reader.Boolean(mapping, "auto_start") ?? true,
            reader.Boolean(mapping, "track_deletes") ?? false,
            reader.String(mapping, "description"),
            declarative);
    }

    private sealed class Reader(string path, Func<string, string?> settings)
    {
        public string? Setting(string name) => settings(name);

        public ConfigurationException Error(YamlNode node, string problem) =>
            new($"{Where(node)}: {problem}");

        public string Where(YamlNode node) => $"{path}:{node.Start.Line}:{node.Start.Column}";

        public YamlNode? Node(YamlMappingNode parent, string key) =>
            parent.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

        public string Scalar(YamlNode node) =>
            node is YamlScalarNode { Value: { } value } ? value : throw Error(node, "expected a plain value here.");

        public YamlMappingNode AsMapping(YamlNode node, string what) =>
            node as YamlMappingNode ?? throw Error(node, $"{what} must be a mapping.");

        public YamlMappingNode? Mapping(YamlMappingNode parent, string key, bool required)
        {
            if (!parent.Children.TryGetValue(new YamlScalarNode(key), out var node))
            {
                return required ? throw Error(parent, $"missing '{key}'.") : null;
            }
            return AsMapping(node, $"'{key}'");
        }

        public string? String(YamlMappingNode parent, string key) =>
            parent.Children.TryGetValue(new YamlScalarNode(key), out var node) ? Scalar(node) : null;

        public bool? Boolean(YamlMappingNode parent, string key)
        {
            if (!parent.Children.TryGetValue(new YamlScalarNode(key), out var node))
            {
                return null;
            }
            return Scalar(node).ToLowerInvariant() switch
            {
                "true" => true,
                "false" => false,
                _ => throw Error(node, $"'{key}' must be true or false."),
            };
        }

        public void OnlyKeys(YamlMappingNode mapping, string[] allowed, string what)
        {
            foreach (var (key, _) in mapping.Children)
            {
                var name = Scalar(key);
                if (!allowed.Contains(name))
                {
                    throw Error(key, $"unknown key '{name}' in {what}; expected one of: {string.Join(", ", allowed)}.");
                }
            }
        }

        public void Name(YamlNode node, string value, Regex pattern, string what)
        {
            if (!Names.IsValid(pattern, value))
            {
                throw Error(node, $"{what} '{value}' must match {pattern} and be at most {Names.MaxLength} characters.");
            }
        }
    }
}
