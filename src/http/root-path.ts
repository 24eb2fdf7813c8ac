/** `url` without the reverse-proxy prefix (--root-path) when it starts with it: "/mcpo/x?y" → "/x?y". */
export function withoutRootPath(url: string, rootPath: string): string {
  if (!rootPath) return url;
  if (url === rootPath || url.startsWith(`${rootPath}/`) || url.startsWith(`${rootPath}?`)) {
    return url.slice(rootPath.length) || "/";
  }
  return url;
}
