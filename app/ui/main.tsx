// Entry of the UI bundle (dist/ui/app.js).

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { setLogSink, type LogLevel } from '../core/log';
import { connectStation } from './api/client';
import { App } from './App';
import { ErrorBoundary } from './components/ErrorBoundary';
import { StationContext } from './components/hooks';
import './styles.css';

// The renderer's logs go to the console: the browser's developer tools and Electron's log.
// Debug lines go out as info: developer tools hide the verbose level by default.
const CONSOLE_BY_LEVEL: Record<LogLevel, (text: string) => void> = {
  debug: (text) => console.info(`debug: ${text}`),
  info: (text) => console.info(text),
  warn: (text) => console.warn(text),
  error: (text) => console.error(text),
};
setLogSink((level, scope, message) => CONSOLE_BY_LEVEL[level](`[${scope}] ${message}`));

const rootElement = document.getElementById('root');
if (!rootElement) throw new Error('index.html has no #root element');

const client = connectStation();
window.addEventListener('pagehide', () => client.dispose());

createRoot(rootElement).render(
  <StrictMode>
    <ErrorBoundary>
      <StationContext.Provider value={client}>
        <App />
      </StationContext.Provider>
    </ErrorBoundary>
  </StrictMode>,
);
