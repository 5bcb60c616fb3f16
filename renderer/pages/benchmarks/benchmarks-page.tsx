import type { Route } from '../../routes';
import { CompareView } from './compare-view';
import { NewBenchmark } from './new-benchmark';
import { RunList } from './run-list';
import { RunView } from './run-view';
import { SweepView } from './sweep-view';
import './benchmarks.css';

export function BenchmarksPage({ route }: { route: Extract<Route, { page: 'benchmarks' }> }) {
  switch (route.view) {
    case 'new':
      return <NewBenchmark />;
    case 'run':
      return <RunView key={route.id} id={route.id} />;
    case 'sweep':
      return <SweepView key={route.group} group={route.group} />;
    case 'compare':
      return <CompareView a={route.a} b={route.b} />;
    case 'list':
      return <RunList />;
  }
}
