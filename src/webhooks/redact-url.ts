// URLs in logs, alerts and error messages are shown by their origin only: a webhook URL's path or query
// may carry a token (Slack's and Teams' incoming webhooks do, and receivers often put one in the query),
// and these texts reach log stores, pg-boss's job output and chat channels.

/** `https://hooks.example.com/services/T0/B0/secret?token=x` → `https://hooks.example.com`. */
export function urlOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(not a valid URL)';
  }
}
