import { watch, type FSWatcher } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { ConfigFileError } from "../config/load-config-file.js";
import type { ConfigSource, LoadedServers } from "../config/schema.js";
import type { Logger } from "../log/logger.js";

/**
 * A Kubernetes ConfigMap volume never writes the file itself: the kubelet writes a new hidden folder, then renames a
 * `..data` symlink onto it (`config.json` is a symlink through `..data`). Only that rename is seen in the folder.
 */
const KUBERNETES_DATA_LINK = "..data";

/** Editors write a file in bursts (truncate, write, rename): act once it settles. */
const SETTLE_MS = 150;

/**
 * Watches the config file and hands each valid new version to `apply`. The
 * folder is watched, not the file, so editors that replace the file by a
 * rename are followed, and so is a Kubernetes ConfigMap volume's update. An invalid file is refused with its problems logged,
 * and the running config stays. Reloads run one at a time.
 */
export function watchConfigFile(
  source: ConfigSource,
  apply: (loaded: LoadedServers) => Promise<unknown>,
  logger: Logger,
  /** Told how each reload ended (for `mcpo_config_reloads_total`). */
  onReload: (outcome: "applied" | "invalid" | "failed") => void = () => undefined,
): { close(): void } {
  const path = resolve(source.path);
  const log = logger.child({ config: source.path });
  let timer: NodeJS.Timeout | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const reload = (): void => {
    queue = queue
      .then(async () => {
        let loaded: LoadedServers;
        try {
          loaded = source.load();
        } catch (error) {
          if (!(error instanceof ConfigFileError)) throw error;
          log.error({ problems: error.problems }, "config file changed but is invalid; keeping the running config");
          onReload("invalid");
          return;
        }
        for (const warning of loaded.warnings) log.warn(warning);
        const report = await apply(loaded);
        log.info({ ...(report as object) }, "config reloaded");
        onReload("applied");
      })
      .catch((error: unknown) => {
        log.error({ err: error }, "config reload failed");
        onReload("failed");
      });
  };

  const watcher: FSWatcher = watch(dirname(path), (_event, filename) => {
    if (filename !== null && filename !== basename(path) && filename !== KUBERNETES_DATA_LINK) return;
    clearTimeout(timer);
    timer = setTimeout(reload, SETTLE_MS);
  });
  watcher.on("error", (error) => log.error({ err: error }, "cannot watch the config file; hot reload is off"));
  log.info("hot reload on: watching the config file");
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
