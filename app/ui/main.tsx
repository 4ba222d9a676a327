// Entry of the UI bundle (dist/ui/app.js).

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { connectStation } from './api/client';
import { App } from './App';
import { StationContext } from './components/hooks';
import './styles.css';

const rootElement = document.getElementById('root');
if (!rootElement) throw new Error('index.html has no #root element');

const client = connectStation();
window.addEventListener('pagehide', () => client.dispose());

createRoot(rootElement).render(
  <StrictMode>
    <StationContext.Provider value={client}>
      <App />
    </StationContext.Provider>
  </StrictMode>,
);
