import { afterAll, beforeAll } from 'vitest';
import { closeFixtureWithDeployments, startControllerFixture, type ControllerFixture } from './controller-fixture';

// Kept apart from controller-fixture.ts, which Playwright specs and benches import without vitest.

/**
 * A fixture for the enclosing describe block, started before its tests and closed after them with
 * closeFixtureWithDeployments; `call` sends a controller API method as the UI would.
 */
export function useControllerFixture(teardownMs = 180_000): { fx: () => ControllerFixture; call: <T>(method: string, params: unknown) => Promise<T> } {
  let fixture: ControllerFixture | undefined;
  beforeAll(async () => {
    fixture = await startControllerFixture();
  }, 120_000);
  afterAll(() => closeFixtureWithDeployments(fixture), teardownMs);
  const fx = (): ControllerFixture => {
    if (!fixture) throw new Error('the controller fixture has not started');
    return fixture;
  };
  return { fx, call: async <T>(method: string, params: unknown) => (await fx().controller.handle(method, params)) as T };
}
