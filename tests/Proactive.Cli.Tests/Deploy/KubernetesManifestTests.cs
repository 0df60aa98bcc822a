using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Proactive.Cli.Commands.Cluster;
using Proactive.Crypto.Random;
using Proactive.Node.Configuration;
using Proactive.Node.Hosting;
using Proactive.Node.Provisioning;
using Proactive.Node.Storage;
using Xunit.Abstractions;

namespace Proactive.Cli.Tests.Deploy;

/// <summary>
/// deploy/k8s and the image's health check, checked without a cluster or a container engine: the
/// manifests parse into the objects a network needs, wired to each other (names, ports, volumes,
/// probes); the ceremony script turns real ROMs into a cluster.json the node's own loader accepts, with
/// the StatefulSet's DNS names; and every probe asks a route a running server really serves.
/// </summary>
public sealed class KubernetesManifestTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string[] ManifestFiles = ["service.yaml", "statefulset.yaml", "poddisruptionbudget.yaml", "networkpolicy.yaml"];
    private readonly string _temp = Directory.CreateTempSubdirectory("proactive-deploy-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static string K8s(string file) => Path.Combine(HostTools.RepositoryRoot(), "deploy", "k8s", file);

    [Fact]
    public void Manifests_parse_into_the_objects_a_network_needs_wired_to_each_other()
    {
        var objects = ManifestFiles.ToDictionary(f => f, Load);
        CrossCheckWithPyYaml(ManifestFiles.Select(K8s));

        var service = objects["service.yaml"];
        var statefulSet = objects["statefulset.yaml"];
        var budget = objects["poddisruptionbudget.yaml"];
        var policy = objects["networkpolicy.yaml"];
        Assert.Equal(["Service", "StatefulSet", "PodDisruptionBudget", "NetworkPolicy"], new[] { service, statefulSet, budget, policy }.Select(o => Text(o["kind"])));

        // The headless Service gives the stable names, also before the servers are ready (initialization).
        Assert.Equal("None", Text(service["spec"]!["clusterIP"]));
        Assert.Equal("true", Text(service["spec"]!["publishNotReadyAddresses"]));
        var spec = statefulSet["spec"]!;
        Assert.Equal(Text(service["metadata"]!["name"]), Text(spec["serviceName"]));
        Assert.Equal("Parallel", Text(spec["podManagementPolicy"]));
        Assert.True(int.Parse(Text(spec["replicas"]), System.Globalization.CultureInfo.InvariantCulture) >= 4, "n >= 3f + 1 with f >= 1");
        var labels = spec["template"]!["metadata"]!["labels"]!.AsObject();
        foreach (var selector in new[] { spec["selector"]!["matchLabels"], service["spec"]!["selector"], budget["spec"]!["selector"]!["matchLabels"], policy["spec"]!["podSelector"]!["matchLabels"] })
        {
            Assert.All(selector!.AsObject(), label => Assert.Equal(Text(label.Value), Text(labels[label.Key])));
        }

        var pod = spec["template"]!["spec"]!;
        Assert.Equal("true", Text(pod["securityContext"]!["runAsNonRoot"]));
        Assert.NotEqual("0", Text(pod["securityContext"]!["runAsUser"]));
        Assert.Equal("false", Text(pod["automountServiceAccountToken"]));
        var volumes = pod["volumes"]!.AsArray().ToDictionary(v => Text(v!["name"]), v => v!.AsObject());
        var claims = spec["volumeClaimTemplates"]!.AsArray().Select(c => Text(c!["metadata"]!["name"])).ToHashSet();
        var containers = pod["containers"]!.AsArray().Concat(pod["initContainers"]!.AsArray()).Select(c => c!.AsObject()).ToList();
        foreach (var container in containers)
        {
            var name = Text(container["name"]);
            Assert.True(Text(container["securityContext"]!["readOnlyRootFilesystem"]) == "true", $"{name}: read-only root file system");
            Assert.True(Text(container["securityContext"]!["allowPrivilegeEscalation"]) == "false", $"{name}: no privilege escalation");
            Assert.Contains("ALL", container["securityContext"]!["capabilities"]!["drop"]!.AsArray().Select(Text));
            Assert.NotNull(container["resources"]!["requests"]!["cpu"]);
            Assert.NotNull(container["resources"]!["requests"]!["memory"]);
            foreach (var mount in container["volumeMounts"]!.AsArray())
            {
                var volume = Text(mount!["name"]);
                Assert.True(volumes.ContainsKey(volume) || claims.Contains(volume), $"{name} mounts '{volume}', which is neither a volume nor a claim template");
            }
        }

        // The ROM: a Secret, read-only in every container; C: a ConfigMap.
        Assert.NotNull(volumes["rom"]["secret"]);
        Assert.NotNull(volumes["cluster"]["configMap"]);
        Assert.All(containers, c => Assert.All(
            c["volumeMounts"]!.AsArray().Where(m => Text(m!["name"]) is "rom" or "cluster"),
            m => Assert.Equal("true", Text(m!["readOnly"]))));

        var node = containers.Single(c => Text(c["name"]) == "node");
        var command = string.Join(' ', node["command"]!.AsArray().Select(Text));
        var mounts = node["volumeMounts"]!.AsArray().ToDictionary(m => Text(m!["name"]), m => Text(m!["mountPath"]));
        Assert.Contains($"--config {mounts["cluster"]}/cluster.json", command, StringComparison.Ordinal);
        Assert.Contains($"--rom \"{mounts["rom"]}/rom-", command, StringComparison.Ordinal);
        Assert.Contains($"--dir {mounts["store"]}/", command, StringComparison.Ordinal);

        var ports = node["ports"]!.AsArray().ToDictionary(p => Text(p!["name"]), p => Text(p!["containerPort"]));
        Assert.Equal(["api", "peer"], ports.Keys.Order());
        Assert.All(service["spec"]!["ports"]!.AsArray(), p => Assert.Contains(Text(p!["targetPort"]), ports.Keys));
        Assert.All(policy["spec"]!["ingress"]!.AsArray().SelectMany(r => r!["ports"]!.AsArray()), p => Assert.Contains(Text(p!["port"]), ports.Keys));
        foreach (var (probe, path) in Probes(statefulSet))
        {
            Assert.Equal("api", Text(node[probe]!["httpGet"]!["port"]));
            Assert.Equal(probe == "readinessProbe" ? "/readyz" : "/healthz", path);
        }

        Assert.Equal("1", Text(budget["spec"]!["maxUnavailable"]));
    }

    [FactWhenProgram("bash")]
    public void Ceremony_script_turns_provisioned_roms_into_a_configuration_the_node_loads_with_the_statefulset_names()
    {
        var statefulSet = Load("statefulset.yaml");
        var service = Load("service.yaml");
        var spec = statefulSet["spec"]!;
        var n = int.Parse(Text(spec["replicas"]), System.Globalization.CultureInfo.InvariantCulture);
        var roms = new List<string>();
        for (var id = 1; id <= n; id++)
        {
            var rom = Path.Combine(_temp, $"rom-{id}.json");
            Provisioner.Provision(new ServerDirectory(Path.Combine(_temp, $"server-{id}"), rom), id, SystemRandomSource.Instance);
            roms.Add(rom);
        }

        var outDir = Path.Combine(_temp, "ceremony");
        var run = HostTools.Run("bash", [K8s("ceremony.sh"), "--namespace", "vault", "--period", "1h", "--out", outDir, .. roms], environment: new Dictionary<string, string> { ["PROACTIVE"] = HostTools.ProactiveProgram() });
        Assert.True(run.ExitCode == 0, run.Both);
        output.WriteLine(run.Both);

        var documents = MiniYaml.LoadAll(File.ReadAllText(Path.Combine(outDir, "ceremony.yaml"))).Select(d => d!.AsObject()).ToList();
        CrossCheckWithPyYaml([Path.Combine(outDir, "ceremony.yaml")]);
        var volumes = spec["template"]!["spec"]!["volumes"]!.AsArray().ToDictionary(v => Text(v!["name"]), v => v!);
        var configMap = documents.Single(d => Text(d["kind"]) == "ConfigMap");
        var secret = documents.Single(d => Text(d["kind"]) == "Secret");
        Assert.Equal(Text(volumes["cluster"]["configMap"]!["name"]), Text(configMap["metadata"]!["name"]));
        Assert.Equal(Text(volumes["rom"]["secret"]!["secretName"]), Text(secret["metadata"]!["name"]));
        Assert.Equal("true", Text(configMap["immutable"]));
        Assert.Equal("true", Text(secret["immutable"]));

        // The ConfigMap's cluster.json, through the product's own loader.
        var clusterJson = Path.Combine(_temp, "from-configmap.json");
        File.WriteAllText(clusterJson, Text(configMap["data"]!["cluster.json"]));
        var config = ClusterConfig.Load(clusterJson);
        Assert.Equal(ClusterConfig.Load(Path.Combine(outDir, "cluster.json")).NetworkId, config.NetworkId);
        Assert.Equal(n, config.Servers.Count);
        var container = spec["template"]!["spec"]!["containers"]!.AsArray().Single(c => Text(c!["name"]) == "node")!;
        var ports = container["ports"]!.AsArray().ToDictionary(p => Text(p!["name"]), p => int.Parse(Text(p!["containerPort"]), System.Globalization.CultureInfo.InvariantCulture));
        foreach (var server in config.Servers)
        {
            // The pod of ordinal id - 1, under the headless Service: its stable DNS name.
            Assert.Equal($"{Text(statefulSet["metadata"]!["name"])}-{server.Id - 1}.{Text(service["metadata"]!["name"])}.vault.svc.cluster.local", server.Host);
            Assert.Equal(ports["peer"], server.PeerPort);
            Assert.Equal(ports["api"], server.ApiPort);
            Assert.Equal(File.ReadAllBytes(roms[server.Id - 1]), Convert.FromBase64String(Text(secret["data"]![$"rom-{server.Id}.json"])));
        }
    }

    /// <summary>
    /// The pod's two shell scripts, run by sh with the container's paths mapped into a folder: the init
    /// container provisions once, shows the ROM, waits for the ceremony's objects and checks the ROM it
    /// is given; on a later start it does nothing; on a new volume of an existing network it makes an
    /// empty directory (the server recovers) instead of a new identity; the node command picks the ROM of
    /// its ordinal.
    /// </summary>
    [FactWhenProgram("sh")]
    public async Task Pod_scripts_provision_once_wait_for_the_ceremony_and_start_the_node_of_their_ordinal()
    {
        var pod = Load("statefulset.yaml")["spec"]!["template"]!["spec"]!;
        var init = pod["initContainers"]!.AsArray().Single(c => Text(c!["name"]) == "provision")!["command"]!.AsArray().Select(Text).ToList();
        var node = pod["containers"]!.AsArray().Single(c => Text(c!["name"]) == "node")!["command"]!.AsArray().Select(Text).ToList();
        Assert.Equal(["/bin/sh", "-c"], init[..2]);
        Assert.Equal(["/bin/sh", "-c"], node[..2]);
        var volume = Path.Combine(_temp, "var");
        var etc = Path.Combine(_temp, "etc");
        Directory.CreateDirectory(volume);
        Directory.CreateDirectory(Path.Combine(etc, "rom"));
        Directory.CreateDirectory(Path.Combine(etc, "cluster"));
        string Map(string script) => script
            .Replace("/opt/proactive/proactive", HostTools.ProactiveProgram(), StringComparison.Ordinal)
            .Replace("/var/lib/proactive", volume, StringComparison.Ordinal)
            .Replace("/etc/proactive", etc, StringComparison.Ordinal);
        var environment = new Dictionary<string, string> { ["POD_NAME"] = "proactive-1" };
        var server = Path.Combine(volume, "server");
        var staged = Path.Combine(volume, "provisioned-rom.json");

        // First start: provision (server 2 = ordinal 1 + 1), then wait for the Secret and the ConfigMap.
        var first = Task.Run(() => HostTools.Run("sh", ["-c", Map(init[2])], TimeSpan.FromSeconds(60), environment: environment));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!File.Exists(staged) || !File.Exists(new ServerDirectory(server).StorePath))
        {
            if (first.IsCompleted)
            {
                Assert.Fail("the init container ended before the ceremony: " + first.Result.Both);
            }

            Assert.True(DateTime.UtcNow < deadline, "the init container did not provision");
            await Task.Delay(100);
        }

        Assert.Equal(2, RomRecord.Read(staged).ServerId);
        Assert.True(File.Exists(new ServerDirectory(server).StartKeyPath));
        File.Copy(staged, Path.Combine(etc, "rom", "rom-2.json"));
        File.WriteAllText(Path.Combine(etc, "cluster", "cluster.json"), "{}");
        var done = await first;
        output.WriteLine(done.Both);
        Assert.True(done.ExitCode == 0, done.Both);
        Assert.Contains(File.ReadAllText(Path.Combine(etc, "rom", "rom-2.json")).Trim(), done.StandardOutput, StringComparison.Ordinal);
        Assert.False(File.Exists(staged));

        // A restart: nothing to do.
        var again = HostTools.Run("sh", ["-c", Map(init[2])], TimeSpan.FromSeconds(30), environment: environment);
        Assert.True(again.ExitCode == 0 && again.StandardOutput.Length == 0, again.Both);

        // A new, empty volume for a server of an existing network: no new identity, an empty directory.
        Directory.Delete(server, recursive: true);
        var replaced = HostTools.Run("sh", ["-c", Map(init[2])], TimeSpan.FromSeconds(30), environment: environment);
        Assert.True(replaced.ExitCode == 0, replaced.Both);
        Assert.Empty(Directory.GetFileSystemEntries(server));
        Assert.False(File.Exists(staged));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(server));
        }

        // The node's command names the ROM of its own ordinal.
        var command = HostTools.Run("sh", ["-c", Map(node[2]).Replace("exec " + HostTools.ProactiveProgram(), "exec echo", StringComparison.Ordinal)], environment: environment);
        Assert.Equal($"node run --dir {server} --config {etc}/cluster/cluster.json --rom {etc}/rom/rom-2.json", command.StandardOutput.Trim());
    }

    [Fact]
    public async Task Probes_and_the_image_health_check_ask_routes_a_running_server_serves()
    {
        // Server 1 of a two-server network, alone: it runs its loop and its API, and stays initializing.
        var ports = PortAllocator.FreeLoopbackPorts(4);
        var servers = new List<ClusterServer>();
        var directories = new Dictionary<int, ServerDirectory>();
        for (var id = 1; id <= 2; id++)
        {
            directories[id] = new ServerDirectory(Path.Combine(_temp, $"server-{id}"), Path.Combine(_temp, $"rom-{id}.json"));
            var provisioned = Provisioner.Provision(directories[id], id, SystemRandomSource.Instance);
            servers.Add(new ClusterServer(id, "127.0.0.1", ports[id - 1], ports[id + 1], provisioned.StartPublicKey));
        }

        Assert.True(ClusterConfig.TryCreate(servers, 1, 0, TimeSpan.FromMinutes(10), "ed25519", null, out var config, out var errors), string.Join("; ", errors));
        var configPath = Path.Combine(_temp, "cluster.json");
        File.WriteAllBytes(configPath, config.ToJson());
        using var stop = new CancellationTokenSource();
        await using var host = new NodeHost(new NodeHostOptions(directories[1], config));
        var running = Task.Run(() => host.RunAsync(stop.Token));
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var api = new Uri($"http://{config.Server(1).ApiEndpoint}/");
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (!await AnswersAsync(http, new Uri(api, "/v1/status")))
            {
                Assert.False(running.IsCompleted, $"the node stopped: {running.Exception?.GetBaseException().Message}");
                Assert.True(DateTime.UtcNow < deadline, "the node's API did not answer within 30 s");
                await Task.Delay(200);
            }

            foreach (var (probe, path) in Probes(Load("statefulset.yaml")))
            {
                using var response = await http.GetAsync(new Uri(api, path));
                output.WriteLine($"{probe} GET {path}: {(int)response.StatusCode}");
                // Alive while initializing; ready only when operational.
                Assert.Equal(probe == "readinessProbe" ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK, response.StatusCode);
            }

            // The image's HEALTHCHECK, exactly as the Dockerfile writes it, with its paths mapped here.
            var healthCheck = DockerfileTests.HealthCheckCommand();
            var mapped = healthCheck.Skip(1).Select(a => a switch
            {
                "/var/lib/proactive/server" => directories[1].Root,
                "/etc/proactive/cluster.json" => configPath,
                "/etc/proactive/rom.json" => directories[1].RomPath,
                _ => a,
            }).ToList();
            Assert.Equal("/opt/proactive/proactive", healthCheck[0]);
            var check = HostTools.Run(HostTools.ProactiveProgram(), mapped);
            output.WriteLine($"HEALTHCHECK: {check.Both}");
            Assert.True(check.ExitCode == 0, $"{HostTools.Describe(healthCheck)} exited {check.ExitCode}: {check.Both}");
        }
        finally
        {
            await stop.CancelAsync();
            await running.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>The node container's probes and their paths.</summary>
    internal static List<(string Probe, string Path)> Probes(JsonObject statefulSet)
    {
        var node = statefulSet["spec"]!["template"]!["spec"]!["containers"]!.AsArray().Single(c => Text(c!["name"]) == "node")!;
        var probes = new[] { "startupProbe", "livenessProbe", "readinessProbe" }.Select(p => (p, Text(node[p]!["httpGet"]!["path"]))).ToList();
        Assert.Equal(3, probes.Count);
        return probes;
    }

    private static async Task<bool> AnswersAsync(HttpClient http, Uri url)
    {
        try
        {
            using var response = await http.GetAsync(url);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static JsonObject Load(string file)
    {
        var documents = MiniYaml.LoadAll(File.ReadAllText(K8s(file)));
        var document = Assert.Single(documents);
        var manifest = document!.AsObject();
        Assert.False(string.IsNullOrEmpty(Text(manifest["apiVersion"])), $"{file}: apiVersion");
        Assert.False(string.IsNullOrEmpty(Text(manifest["metadata"]?["name"])), $"{file}: metadata.name");
        return manifest;
    }

    /// <summary>Where python3 has PyYAML, its BaseLoader (every scalar a string) must read each file exactly as MiniYaml does.</summary>
    private void CrossCheckWithPyYaml(IEnumerable<string> files)
    {
        const string script = "import json, sys, yaml\nprint(json.dumps([list(yaml.load_all(open(f), Loader=yaml.BaseLoader)) for f in sys.argv[1:]]))";
        var list = files.ToList();
        if (HostTools.Find("python3") is null || HostTools.Run("python3", "-c", "import yaml").ExitCode != 0)
        {
            output.WriteLine("python3 with PyYAML is not here: the manifests were read by MiniYaml alone.");
            return;
        }

        var run = HostTools.Run("python3", ["-c", script, .. list]);
        Assert.True(run.ExitCode == 0, run.Both);
        var theirs = JsonNode.Parse(run.StandardOutput)!.AsArray();
        for (var i = 0; i < list.Count; i++)
        {
            var ours = new JsonArray([.. MiniYaml.LoadAll(File.ReadAllText(list[i])).Select(d => d?.DeepClone())]);
            Assert.True(JsonNode.DeepEquals(theirs[i], ours), $"{list[i]}: PyYAML reads {theirs[i]?.ToJsonString()}\nMiniYaml reads {ours.ToJsonString()}");
        }

        output.WriteLine($"PyYAML reads the {list.Count} file(s) exactly as MiniYaml does.");
    }

    internal static string Text(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : throw new Xunit.Sdk.XunitException($"expected a scalar, found {node?.ToJsonString() ?? "nothing"}");
}
