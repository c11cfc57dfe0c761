// Checks rendered Kubernetes manifests offline: each object against the Kubernetes API
// schema bundled in kubernetes-models (including fields the schema does not know, which the
// package alone accepts), then Prima's own rules: the security settings of every workload,
// probes, resources, named ports, a PodDisruptionBudget and an autoscaler per Deployment,
// graceful shutdown that fits the drain, Redis durability, no secret in the manifests.
//
//   node check-manifests.js RENDERED.yaml [--overlay]
//
// --overlay adds the rules of a region's overlay (pinned image tags, one namespace).
// Prints every problem found and exits 1 if there is any.
"use strict";

const fs = require("fs");
const path = require("path");
const YAML = require("yaml");

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith("--"));
const isOverlay = args.includes("--overlay");
if (!file) {
  console.error("usage: node check-manifests.js RENDERED.yaml [--overlay]");
  process.exit(2);
}

const problems = [];
function problem(object, message) {
  const where = object ? `${object.kind}/${object.metadata && object.metadata.name}` : file;
  problems.push(`${where}: ${message}`);
}

const objects = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"))
  .map((doc) => {
    if (doc.errors.length) problem(null, `YAML: ${doc.errors[0].message}`);
    return doc.toJSON();
  })
  .filter((o) => o);
if (objects.length === 0) problem(null, "no objects rendered");

// ---- Schema validation, with unknown fields.
//
// kubernetes-models ships one compiled JSON-schema validator per API type
// (_schemas/IoK8sApi<Group><Version><Kind>.js). Those validators read every property their
// schema defines, and enumerate the keys only of maps (labels, resources, data, ...). So we
// validate through a Proxy that records which keys the validator read on each object; a
// key it never read is a field the schema does not define.
const schemasDir = path.join(
  path.dirname(require.resolve("kubernetes-models/package.json")),
  "_schemas",
);

function schemaName(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/")
    ? apiVersion.split("/")
    : ["core", apiVersion];
  const capitalize = (s) => s.charAt(0).toUpperCase() + s.slice(1);
  return `IoK8sApi${capitalize(group.split(".")[0])}${capitalize(version)}${kind}`;
}

function validateSchema(object) {
  if (typeof object.apiVersion !== "string" || typeof object.kind !== "string") {
    problem(object, "no apiVersion or kind");
    return;
  }
  const schemaFile = path.join(schemasDir, `${schemaName(object.apiVersion, object.kind)}.js`);
  if (!fs.existsSync(schemaFile)) {
    problem(object, `no Kubernetes API schema for ${object.apiVersion} ${object.kind}`);
    return;
  }
  const { validate } = require(schemaFile);
  const readKeys = new Map(); // target -> Set of keys the validator read
  const proxies = new Map(); // target -> its proxy
  const enumerated = new Set(); // targets whose keys the validator listed (maps)
  const wrap = (value) => {
    if (value === null || typeof value !== "object") return value;
    if (!proxies.has(value)) {
      readKeys.set(value, new Set());
      proxies.set(
        value,
        new Proxy(value, {
          get(target, key, receiver) {
            if (typeof key === "string") readKeys.get(target).add(key);
            return wrap(Reflect.get(target, key, receiver));
          },
          ownKeys(target) {
            enumerated.add(target);
            return Reflect.ownKeys(target);
          },
        }),
      );
    }
    return proxies.get(value);
  };
  if (!validate(wrap(object))) {
    for (const error of validate.errors || []) {
      const detail = error.message || `${error.keyword} ${JSON.stringify(error.params)}`;
      problem(object, `schema: ${error.instancePath || "/"} ${detail}`);
    }
    return;
  }
  const walk = (value, at) => {
    if (value === null || typeof value !== "object") return;
    if (!Array.isArray(value) && !enumerated.has(value)) {
      const known = readKeys.get(value) || new Set();
      for (const key of Object.keys(value)) {
        if (!known.has(key)) {
          problem(object, `schema: unknown field ${at}/${key}`);
          delete value[key]; // reported once, not again for everything below it
        }
      }
    }
    for (const [key, child] of Object.entries(value)) walk(child, `${at}/${key}`);
  };
  walk(object, "");
}

objects.forEach(validateSchema);

// ---- Prima's rules.
const byKind = (kind) => objects.filter((o) => o.kind === kind);
const labelsMatch = (selector, labels) =>
  !!selector &&
  Object.entries(selector.matchLabels || {}).every(([k, v]) => labels && labels[k] === v) &&
  Object.keys(selector.matchLabels || {}).length > 0;

function configMapValue(name, key) {
  const configMap = byKind("ConfigMap").find((c) => c.metadata.name === name);
  return configMap && configMap.data ? configMap.data[key] : undefined;
}

function envValue(container, key) {
  for (const env of container.env || []) {
    if (env.name === key) return env.value;
  }
  for (const from of container.envFrom || []) {
    if (from.configMapRef) {
      const value = configMapValue(from.configMapRef.name, key);
      if (value !== undefined) return value;
    }
  }
  return undefined;
}

const portOf = (address) => Number(String(address).split(":").pop());

function checkContainer(object, pod, container, { longRunning }) {
  const what = `container ${container.name}`;
  const sc = container.securityContext || {};
  const podSc = pod.securityContext || {};
  if (sc.allowPrivilegeEscalation !== false) {
    problem(object, `${what}: allowPrivilegeEscalation must be false`);
  }
  if (sc.readOnlyRootFilesystem !== true) {
    problem(object, `${what}: readOnlyRootFilesystem must be true`);
  }
  if (!((sc.capabilities || {}).drop || []).includes("ALL")) {
    problem(object, `${what}: capabilities must drop ALL`);
  }
  if ((sc.capabilities || {}).add && sc.capabilities.add.length) {
    problem(object, `${what}: adds capabilities ${sc.capabilities.add}`);
  }
  if (sc.privileged) problem(object, `${what}: privileged`);
  const runAsNonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
  const runAsUser = sc.runAsUser ?? podSc.runAsUser;
  if (runAsNonRoot !== true) problem(object, `${what}: runAsNonRoot must be true`);
  if (!Number.isInteger(runAsUser) || runAsUser === 0) {
    problem(object, `${what}: runAsUser must be a numeric non-root user`);
  }
  const seccomp = (sc.seccompProfile || podSc.seccompProfile || {}).type;
  if (seccomp !== "RuntimeDefault") {
    problem(object, `${what}: seccompProfile must be RuntimeDefault`);
  }
  const resources = container.resources || {};
  for (const kind of ["requests", "limits"]) {
    for (const resource of ["cpu", "memory"]) {
      if (!(resources[kind] || {})[resource]) {
        problem(object, `${what}: resources.${kind}.${resource} not set`);
      }
    }
  }
  if (longRunning) {
    for (const probe of ["readinessProbe", "livenessProbe"]) {
      if (!container[probe]) problem(object, `${what}: no ${probe}`);
      else if ((container[probe].timeoutSeconds || 1) < 2) {
        problem(object, `${what}: ${probe}.timeoutSeconds under 2 s fails on a slow Redis`);
      }
    }
  }
}

// A prima service: a Deployment of the prima image running one of the four servers.
function checkPrimaService(object, pod, container) {
  const ports = Object.fromEntries((container.ports || []).map((p) => [p.name, p.containerPort]));
  if (!ports.grpc) problem(object, "no container port named grpc");
  if (!ports.metrics) problem(object, "no container port named metrics");
  const listen = envValue(container, "PRIMA_LISTEN");
  if (!listen || portOf(listen) !== ports.grpc) {
    problem(object, `PRIMA_LISTEN (${listen}) does not serve the grpc port ${ports.grpc}`);
  }
  if (listen && !String(listen).startsWith("0.0.0.0:")) {
    problem(object, `PRIMA_LISTEN (${listen}) must listen on 0.0.0.0 in a pod`);
  }
  const metrics = envValue(container, "PRIMA_METRICS_LISTEN");
  if (!metrics || portOf(metrics) !== ports.metrics) {
    problem(object, `PRIMA_METRICS_LISTEN (${metrics}) does not serve the metrics port`);
  }
  const readiness = (container.readinessProbe || {}).grpc;
  if (!readiness || readiness.port !== ports.grpc || (readiness.service || "") !== "") {
    problem(object, "readinessProbe must be a grpc probe of the whole server on the grpc port");
  }
  const liveness = (container.livenessProbe || {}).grpc;
  if (!liveness || liveness.port !== ports.grpc || liveness.service !== "liveness") {
    problem(object, "livenessProbe must be a grpc probe of the `liveness` service");
  }
  const secretEnv = (name, key) =>
    (container.env || []).some(
      (e) =>
        e.name === name &&
        e.valueFrom &&
        e.valueFrom.secretKeyRef &&
        e.valueFrom.secretKeyRef.name === "prima-secrets" &&
        e.valueFrom.secretKeyRef.key === key,
    );
  if (!secretEnv("PRIMA_JWT_SECRET", "jwt-secret")) {
    problem(object, "PRIMA_JWT_SECRET must come from Secret prima-secrets, key jwt-secret");
  }
  if (!secretEnv("PRIMA_REDIS_PASSWORD", "redis-password")) {
    problem(object, "PRIMA_REDIS_PASSWORD must come from Secret prima-secrets, key redis-password");
  }
  // Graceful shutdown: the preStop pause, then the server's drain, must end before SIGKILL.
  const preStop = (((container.lifecycle || {}).preStop || {}).sleep || {}).seconds;
  if (!preStop) problem(object, "no preStop sleep before the drain");
  const drain = Number(envValue(container, "PRIMA_DRAIN_SECONDS") ?? 10);
  const grace = pod.terminationGracePeriodSeconds ?? 30;
  if (!(grace > (preStop || 0) + drain)) {
    problem(object, `terminationGracePeriodSeconds ${grace} must exceed preStop ${preStop} s + PRIMA_DRAIN_SECONDS ${drain}`);
  }
  if (!(pod.topologySpreadConstraints || []).some((c) => c.topologyKey === "kubernetes.io/hostname")) {
    problem(object, "no topology spread across nodes (kubernetes.io/hostname)");
  }
  const rolling = ((object.spec.strategy || {}).rollingUpdate || {});
  if (rolling.maxUnavailable !== 0) {
    problem(object, "rollingUpdate.maxUnavailable must be 0 for upgrades without downtime");
  }
}

const workloads = [...byKind("Deployment"), ...byKind("StatefulSet"), ...byKind("Job")];
for (const object of workloads) {
  const pod = ((object.spec || {}).template || {}).spec;
  if (!pod) continue; // the schema check reported it
  if (pod.automountServiceAccountToken !== false) {
    problem(object, "automountServiceAccountToken must be false");
  }
  const longRunning = object.kind !== "Job";
  for (const container of pod.containers || []) {
    checkContainer(object, pod, container, { longRunning });
  }
  for (const container of pod.initContainers || []) {
    checkContainer(object, pod, container, { longRunning: false });
  }
  for (const container of pod.containers || []) {
    for (const env of container.env || []) {
      if (/SECRET|PASSWORD/.test(env.name) && env.value !== undefined) {
        problem(object, `${env.name} is set literally; take it from a Secret`);
      }
    }
  }
}

for (const object of byKind("ConfigMap")) {
  for (const key of Object.keys(object.data || {})) {
    if (/SECRET|PASSWORD/i.test(key)) problem(object, `${key} belongs in a Secret, not a ConfigMap`);
  }
}
for (const object of byKind("Secret")) {
  problem(object, "the repository ships no Secret; create prima-secrets by hand");
}

const services = byKind("Deployment").filter(
  (d) => ((d.spec.template.metadata || {}).labels || {})["app.kubernetes.io/component"] === "service",
);
if (!objects.some((o) => o.kind === "Deployment")) problem(null, "no Deployment rendered");
for (const deployment of byKind("Deployment")) {
  const labels = (deployment.spec.template.metadata || {}).labels;
  if (services.includes(deployment)) {
    checkPrimaService(deployment, deployment.spec.template.spec, deployment.spec.template.spec.containers[0]);
  }
  if (!byKind("PodDisruptionBudget").some((p) => labelsMatch(p.spec.selector, labels))) {
    problem(deployment, "no PodDisruptionBudget selects its pods");
  }
  if (!byKind("HorizontalPodAutoscaler").some((h) =>
    h.spec.scaleTargetRef.kind === "Deployment" && h.spec.scaleTargetRef.name === deployment.metadata.name)) {
    problem(deployment, "no HorizontalPodAutoscaler scales it");
  }
  const service = byKind("Service").find((s) => labelsMatch({ matchLabels: s.spec.selector }, labels));
  if (!service) {
    problem(deployment, "no Service selects its pods");
  } else {
    const names = (service.spec.ports || []).map((p) => p.name);
    for (const name of ["grpc", "metrics"]) {
      if (!names.includes(name)) problem(service, `no port named ${name}`);
    }
  }
}

// Redis, when it runs in the cluster: durable and password-protected.
const redis = byKind("StatefulSet").find((s) => s.metadata.name === "redis");
if (redis) {
  const container = redis.spec.template.spec.containers.find((c) => c.name === "redis");
  const flags = (container.args || []).join(" ");
  for (const needed of ["--appendonly yes", "--appendfsync always", "--requirepass $(REDIS_PASSWORD)"]) {
    if (!flags.includes(needed)) problem(redis, `redis-server needs ${needed}`);
  }
  if (!(redis.spec.volumeClaimTemplates || []).length) {
    problem(redis, "no volumeClaimTemplates: the data would not survive the pod");
  }
}

if (isOverlay) {
  const namespaces = new Set(
    objects.filter((o) => o.kind !== "Namespace").map((o) => o.metadata.namespace),
  );
  if (namespaces.size !== 1 || namespaces.has(undefined)) {
    problem(null, `an overlay puts everything in one namespace, found ${[...namespaces]}`);
  }
  for (const object of workloads) {
    const pod = object.spec.template.spec;
    for (const container of [...(pod.containers || []), ...(pod.initContainers || [])]) {
      const image = container.image || "";
      if (!/:[^/]+$/.test(image) || image.endsWith(":latest")) {
        problem(object, `container ${container.name}: image ${image} must be pinned to a tag`);
      }
    }
  }
}

for (const line of problems) console.error(line);
console.log(`${file}: ${objects.length} objects, ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
