// A vehicle as the station's telemetry describes it, armed and flying in GUIDED, and a station's
// hello, for tests that script a station or a link instead of flying the simulator.

import type { Role, ServerMessage, StationDefaults } from '../../app/core/protocol';
import type { LatLon, VehicleState } from '../../app/core/types';

export function flyingVehicle(
  position: LatLon & { altitudeMslM: number; altitudeRelM: number },
  home: LatLon & { altitudeMslM: number },
  overrides: Partial<VehicleState> = {},
): VehicleState {
  return {
    systemId: 1,
    link: 'connected',
    lastHeartbeatMs: Date.now(),
    autopilot: 'ArduPilot',
    vehicleType: 'quadrotor',
    customMode: 4,
    modeName: 'GUIDED',
    armed: true,
    position,
    velocity: { northMps: 0, eastMps: 0, downMps: 0 },
    attitude: { rollDeg: 0, pitchDeg: 0, yawDeg: 0 },
    home,
    gimbal: null,
    battery: { voltageV: 16.2, currentA: 8, remainingPct: 81 },
    gps: { fixType: 3, fixName: '3D', satellites: 14, hdop: 0.7 },
    statusTexts: [],
    ...overrides,
  };
}

/** The hello a scripted station sends: offline test tiles and the UI's usual defaults. */
export function scriptedHello(
  role: Role,
  mapCenter: LatLon,
  defaults: Pick<StationDefaults, 'envelope' | 'speakerAvailable'>,
): Extract<ServerMessage, { type: 'hello' }> {
  return {
    type: 'hello',
    role,
    tiles: {
      kind: 'offline',
      urlTemplate: '/tiles/{z}/{x}/{y}',
      attribution: 'test tiles',
      maxZoom: 17,
    },
    defaults: { takeoffAltitudeM: 20, standoffM: 30, pushAltitudeM: 25, ...defaults },
    mapCenter,
  };
}
