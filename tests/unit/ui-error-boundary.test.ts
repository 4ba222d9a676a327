// The error boundary around the whole screen: a failure while drawing becomes a plain panel
// with the message and a Reload button, and goes to the app's logger.

import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { setLogSink, type LogLevel } from '../../app/core/log';
import {
  ErrorBoundary,
  failedScreenText,
  thrownMessage,
} from '../../app/ui/components/ErrorBoundary';

describe('the screen failed to draw', () => {
  afterEach(() => setLogSink(() => {}));

  test('the words name what failed, whatever was thrown', () => {
    const error = new TypeError("Cannot read properties of undefined (reading 'latDeg')");
    assert.equal(
      failedScreenText(error),
      "The screen failed to draw: Cannot read properties of undefined (reading 'latDeg').",
    );
    assert.equal(
      failedScreenText(new Error('zone 1 has no corners.')),
      'The screen failed to draw: zone 1 has no corners.',
    );
    assert.equal(thrownMessage('plain words'), 'plain words');
    assert.equal(thrownMessage({ code: 7 }), '{"code":7}');
    assert.equal(thrownMessage(undefined), 'undefined');
    assert.equal(thrownMessage(new RangeError('')), 'RangeError');
  });

  test('children draw while nothing failed', () => {
    const html = renderToStaticMarkup(
      createElement(ErrorBoundary, null, createElement('p', null, 'the map')),
    );
    assert.equal(html, '<p>the map</p>');
  });

  test('a failure shows the message and a Reload button, and is logged as an error', () => {
    const logged: Array<{ level: LogLevel; scope: string; message: string }> = [];
    setLogSink((level, scope, message) => logged.push({ level, scope, message }));
    let reloads = 0;
    const boundary = new ErrorBoundary({ onReload: () => reloads++ });
    const thrown = new TypeError("Cannot read properties of undefined (reading 'map')");
    boundary.state = ErrorBoundary.getDerivedStateFromError(thrown);
    boundary.componentDidCatch(thrown, { componentStack: '\n    at MapView\n    at App' });
    const panel = boundary.render();
    const html = renderToStaticMarkup(createElement('div', null, panel));
    assert.match(html, /role="alert"/);
    assert.ok(
      html.includes(
        '<p data-testid="screen-failed-text">The screen failed to draw: ' +
          'Cannot read properties of undefined (reading &#x27;map&#x27;).</p>',
      ),
      html,
    );
    assert.match(html, /<button[^>]*data-testid="screen-failed-reload"[^>]*>Reload<\/button>/);
    assert.deepEqual(logged[0], {
      level: 'error',
      scope: 'ui',
      message:
        "the screen failed to draw: Cannot read properties of undefined (reading 'map') " +
        '(at MapView)',
    });
    // The button's handler is the one given: a click reloads.
    const button = (panel as { props: { children: Array<{ props: { onClick(): void } }> } }).props
      .children[1];
    button.props.onClick();
    assert.equal(reloads, 1);
  });

  test('a thrown null still counts as a failure', () => {
    const state = ErrorBoundary.getDerivedStateFromError(null);
    assert.notEqual(state.error, null);
    assert.equal(failedScreenText(null), 'The screen failed to draw: null.');
  });
});
