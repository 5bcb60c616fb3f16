import { useState } from 'react';
import { useApp } from '../../store/app-store';
import { ImportPanel } from '../benchmarks/import-panel';

/** No runs yet: what a report is made from, and the buttons that get there. */
export function ReportsEmpty() {
  const navigate = useApp((s) => s.navigate);
  const [importing, setImporting] = useState(false);
  return (
    <section className="card empty-state reports-empty" data-testid="reports-empty">
      <p>
        <strong>Nothing to report yet.</strong> A report is made from benchmark runs, and there are none on this computer.
      </p>
      <ol className="reports-steps">
        <li>
          <strong>Run a benchmark</strong> against a deployment on the Benchmarks page. No GPU? Deploy the simulated engine (the mocker) on This computer first: its numbers are modelled, and
          every screen and report labels them <span className="badge badge-simulated">Simulated</span>.
        </li>
        <li>
          <strong>Or import results</strong> you already have: genai-perf or AIPerf artifact folders, or a <code>vllm bench serve</code> result file.
        </li>
        <li>Then come back here: every run and sweep is listed with an Export menu (HTML, PDF, CSV, bundle), and you can compose an aggregated-vs-disaggregated comparison.</li>
      </ol>
      <div className="reports-empty-actions">
        <button type="button" className="btn btn-primary" onClick={() => navigate({ page: 'benchmarks', view: 'new' })} data-testid="reports-empty-bench">
          New benchmark
        </button>
        <button type="button" className="btn" onClick={() => setImporting((v) => !v)} aria-expanded={importing} data-testid="reports-empty-import">
          Import results…
        </button>
        <button type="button" className="btn" onClick={() => navigate({ page: 'deployments', view: 'new' })} data-testid="reports-empty-deploy">
          Deploy the simulated engine
        </button>
      </div>
      {importing ? <ImportPanel /> : null}
    </section>
  );
}
