import type { Route } from '../../routes';
import { DeploymentList } from './deployment-list';
import { DeploymentViewPage } from './deployment-view';
import { WizardPage } from './wizard/wizard-page';
import './deployments.css';

export function DeploymentsPage({ route }: { route: Extract<Route, { page: 'deployments' }> }) {
  if (route.view === 'new') return <WizardPage />;
  if (route.view === 'deployment') return <DeploymentViewPage key={route.id} id={route.id} />;
  return <DeploymentList />;
}
