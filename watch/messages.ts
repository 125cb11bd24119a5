/**
 * One line per watcher event for a person: what was ingested or rejected, what was
 * ignored and why, how many new flags a rule run raised. zh-CN by default, English
 * on request. File names are shown with control characters escaped, so a name with a
 * newline cannot forge a line of its own.
 */
import { DONE_DIR } from './archive.ts';
import type { WatchEvent } from './watcher.ts';

export type Lang = 'zh' | 'en';

/** A file name safe to print on one line. */
export function printable(name: string): string {
  return name.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const IGNORED: Record<Extract<WatchEvent, { type: 'ignored' }>['reason'], { zh: string; en: string }> = {
  symlink: { zh: '符号链接，不跟随、不读取', en: 'a symbolic link: not followed, not read' },
  not_regular: { zh: '不是普通文件', en: 'not a regular file' },
  not_feed: { zh: '不是数据文件（按文件名和格式判断）', en: 'not a feed file (by its name and format)' },
  outside: { zh: '实际位置不在监视目录内，拒绝读取', en: 'its real path is outside the watched folder: refused' },
  protected: { zh: '是数据库或事件日志自身的文件，拒绝读取', en: 'it is the database or an event-log file itself: refused' },
  hard_link: {
    zh: '是硬链接（文件有多个名称，可能是监视目录外的文件），拒绝读取；请把文件复制进监视目录',
    en: 'a hard link (the file has other names and may be a file outside the watched folder): refused; copy the file in instead',
  },
};

export function describeEvent(e: WatchEvent, lang: Lang = 'zh'): string {
  const zh = lang === 'zh';
  switch (e.type) {
    case 'ready':
      return zh ? `正在监视 ${printable(e.dir)}（现有 ${e.files} 个数据文件，逐一处理）` : `watching ${printable(e.dir)} (${e.files} feed file(s) already there, each processed once)`;
    case 'ignored':
      return zh ? `已忽略 ${printable(e.rel)}：${IGNORED[e.reason].zh}` : `ignored ${printable(e.rel)}: ${IGNORED[e.reason].en}`;
    case 'pruned':
      return zh
        ? `已从 ${DONE_DIR} 删除 ${e.files.length} 个归档超过 ${e.days} 天的文件（数据、批次报告和 SHA-256 仍在数据库中）`
        : `removed ${e.files.length} file(s) archived more than ${e.days} day(s) ago from ${DONE_DIR} (their rows, batch reports and SHA-256 stay in the database)`;
    case 'changed':
      return zh ? `${printable(e.rel)} 在读取时仍有变化，稳定后将重新读取` : `${printable(e.rel)} changed while it was read; it is read again once it settles`;
    case 'error':
      return zh
        ? `出错（${e.where}）${e.rel ? ` ${printable(e.rel)}` : ''}：${e.message}；继续监视`
        : `error (${e.where})${e.rel ? ` ${printable(e.rel)}` : ''}: ${e.message}; still watching`;
    case 'rules': {
      const t = e.summary.totals;
      const n = e.files.length;
      if (zh) {
        const more = [t.flags_reproduced ? `重新出现 ${t.flags_reproduced} 条` : '', t.flags_not_reproduced ? `不再出现 ${t.flags_not_reproduced} 条` : '', t.errors ? `${t.errors} 条规则出错` : '']
          .filter(Boolean)
          .join('，');
        const after = n ? `${n} 个文件之后` : '补上此前已导入、尚未运行规则的数据';
        return `规则运行（${after}，${e.summary.millis} 毫秒）：新增预警 ${t.flags_new} 条${more ? `，${more}` : ''}`;
      }
      const more = [t.flags_reproduced ? `${t.flags_reproduced} reproduced` : '', t.flags_not_reproduced ? `${t.flags_not_reproduced} no longer reproduced` : '', t.errors ? `${t.errors} rule(s) failed` : '']
        .filter(Boolean)
        .join(', ');
      const after = n ? `after ${n} file(s)` : 'catching up on batches loaded since the last run';
      return `rule run ${after}, ${e.summary.millis} ms: ${t.flags_new} new alert(s)${more ? `, ${more}` : ''}`;
    }
    case 'ingested': {
      const r = e.report;
      const f = printable(e.rel);
      const moved = e.moved_to ? (zh ? `；已移至 ${printable(e.moved_to)}` : `; moved to ${printable(e.moved_to)}`) : '';
      switch (r.status) {
        case 'committed':
          return zh
            ? `收到 ${f} → ${r.table}：接收 ${r.accepted} 行，拒收 ${r.rejected} 行（新增 ${r.inserted}，更正 ${r.corrected}，未变 ${r.unchanged}；批次 ${r.batch_id}）${moved}`
            : `received ${f} → ${r.table}: ${r.accepted} rows accepted, ${r.rejected} rejected (${r.inserted} new, ${r.corrected} corrected, ${r.unchanged} unchanged; batch ${r.batch_id})${moved}`;
        case 'noop':
          return zh ? `收到 ${f}：内容已导入过，未再导入（${r.message}）${moved}` : `received ${f}: its content is already loaded, nothing changed (${r.message})${moved}`;
        case 'rolled_back':
          return zh
            ? `收到 ${f}${r.table ? ` → ${r.table}` : ''}：拒收 ${r.rejected} 行（共 ${r.rows_read} 行），整批未写入；逐行原因见 fiscus quarantine --batch ${r.batch_id}（${r.message}）${moved}`
            : `received ${f}${r.table ? ` → ${r.table}` : ''}: ${r.rejected} of ${r.rows_read} rows rejected, nothing loaded; row-by-row reasons: fiscus quarantine --batch ${r.batch_id} (${r.message})${moved}`;
        case 'failed':
          return zh ? `收到 ${f}：未能导入：${r.message}${moved}` : `received ${f}: not ingested: ${r.message}${moved}`;
      }
    }
  }
}
