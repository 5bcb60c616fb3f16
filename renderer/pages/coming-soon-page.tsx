import type { PageId } from '../routes';

type Upcoming = Exclude<PageId, 'hosts' | 'deployments' | 'benchmarks'>;

const PLANS: Record<Upcoming, { title: string; lines: string[] }> = {
  playground: {
    title: 'Playground',
    lines: [
      "Chat with a running deployment through its OpenAI-compatible endpoint.",
      'For each reply you will see which workers prefilled and decoded it, time to first token, and how long the KV-cache transfer took.',
    ],
  },
  reports: {
    title: 'Reports',
    lines: ['Compare runs side by side, such as aggregated against disaggregated on the same workload, and export the comparison as a report.'],
  },
};

/** A page that is not built yet: says plainly what it will do, and shows no made-up data. */
export function ComingSoonPage({ page }: { page: Upcoming }) {
  const plan = PLANS[page];
  return (
    <div className="page" data-testid={`page-${page}`}>
      <header className="page-head">
        <h1>{plan.title}</h1>
      </header>
      <div className="card coming-soon" data-testid="coming-soon">
        <div className="coming-soon-tag">Not built yet</div>
        {plan.lines.map((l) => (
          <p key={l}>{l}</p>
        ))}
        <p className="muted">Until then, add and check your GPU hosts on the Hosts page.</p>
      </div>
    </div>
  );
}
