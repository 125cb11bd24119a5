/**
 * `fiscus webhooks secret`: a new Standard Webhooks secret (`whsec_` + base64 of 32 random bytes).
 * `fiscus webhooks check FILE`: validate a webhooks file the way `fiscus serve --webhooks` will,
 * resolving every target now (serve checks again on every connection).
 */
import { FiscusError } from '../../engine/errors.ts';
import { checkWebhookTarget, TargetAllowList, WebhookTargetError } from '../../api/webhook-target.ts';
import { generateWebhookSecret, loadWebhooksFile } from '../../api/webhooks.ts';
import type { RegisterCommand } from './index.ts';

/** `--webhook-allow a,b` (repeatable) → entries. */
export function allowEntries(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

export const collect = (v: string, prev: string[] = []) => [...prev, v];

export const register: RegisterCommand = (program, ctx) => {
  const webhooks = program.command('webhooks').description('webhook endpoints of the alert feed (see fiscus serve --webhooks)');
  webhooks
    .command('secret')
    .description('print a new secret for a webhooks file: whsec_ + base64 of 32 random bytes (Standard Webhooks)')
    .action(() => {
      ctx.io.out(`${generateWebhookSecret()}\n`);
    });
  webhooks
    .command('check')
    .description('validate a webhooks file and resolve every target: public addresses only unless allow-listed')
    .argument('<file>', 'JSON array of {id, url, secret, …}')
    .option('--webhook-allow <list>', 'CIDRs or host names allowed beyond public addresses, comma-separated (repeatable)', collect)
    .action(async (file, o) => {
      const endpoints = loadWebhooksFile(file);
      const allow = new TargetAllowList(allowEntries(o.webhookAllow));
      let refused = 0;
      for (const ep of endpoints) {
        try {
          const addrs = await checkWebhookTarget(ep.url, allow);
          ctx.io.out(`ok       ${ep.id}  ${new URL(ep.url).host} → ${addrs.join(', ')}\n`);
        } catch (err) {
          if (err instanceof WebhookTargetError) {
            refused++;
            ctx.io.out(`refused  ${ep.id}  ${err.message}\n`);
          } else {
            ctx.io.out(`unknown  ${ep.id}  ${new URL(ep.url).host} does not resolve now (${err instanceof Error ? err.message : String(err)}); serve will retry\n`);
          }
        }
      }
      if (refused > 0) throw new FiscusError(`${refused} of ${endpoints.length} webhook endpoint(s) refused`, { code: 'WEBHOOK_TARGET' });
    });
};
