import { useMemo, useState } from 'react';
import type { ChatReply } from '../../../common/chat';
import { chatWaterfall } from '../../../common/waterfall';
import { RequestWaterfallChart } from '../../charts/waterfall-request';

/**
 * A reply's waterfall from the router's trace (docs/waterfall.md): the controller's clock and the
 * router's are not compared, so both network hops are one phase; with no NIXL telemetry here the
 * KV transfer is an upper bound, less one decode step of the reply's ITL. Folded by default to keep the conversation readable.
 */
export function ReplyWaterfall({ reply }: { reply: ChatReply }) {
  const [open, setOpen] = useState(false);
  const w = useMemo(() => (reply.trace && reply.stats ? chatWaterfall(reply.stats.ttftMs, reply.stats.e2eMs, reply.trace, reply.stats.itlMs) : null), [reply.trace, reply.stats]);
  if (!w || w.phases.length === 0) return null;
  return (
    <div className="reply-waterfall" data-testid="reply-waterfall">
      <button type="button" className="btn btn-small btn-quiet" aria-expanded={open} onClick={() => setOpen((o) => !o)} data-testid="reply-waterfall-toggle">
        {open ? 'Hide' : 'Show'} where the time went
      </button>
      {open ? <RequestWaterfallChart waterfall={w} testId="reply-waterfall-chart" /> : null}
    </div>
  );
}
