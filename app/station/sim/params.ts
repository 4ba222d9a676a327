// The simulator's parameter table: a few hundred of ArduCopter 4.x's parameters with their
// types and defaults (a 4S quadcopter with a gimbal), settable for the life of the process. A few
// carry ArduPilot's documented ranges and are clamped to them, and a few are read-only, so a
// ground station can be tested against values the vehicle changes or refuses.

export type SimParamType = 'INT8' | 'INT16' | 'INT32' | 'REAL32';

export interface SimParamSpec {
  name: string;
  type: SimParamType;
  value: number;
  min?: number;
  max?: number;
  readOnly?: boolean;
}

const TYPE_RANGES: Record<Exclude<SimParamType, 'REAL32'>, [number, number]> = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
};

type Row = [name: string, type: SimParamType, value: number, extra?: Partial<SimParamSpec>];

const i8 = (name: string, value: number, extra?: Partial<SimParamSpec>): Row => [
  name,
  'INT8',
  value,
  extra,
];
const i16 = (name: string, value: number, extra?: Partial<SimParamSpec>): Row => [
  name,
  'INT16',
  value,
  extra,
];
const i32 = (name: string, value: number, extra?: Partial<SimParamSpec>): Row => [
  name,
  'INT32',
  value,
  extra,
];
const f32 = (name: string, value: number, extra?: Partial<SimParamSpec>): Row => [
  name,
  'REAL32',
  value,
  extra,
];

function rows(): Row[] {
  const table: Row[] = [
    i16('FORMAT_VERSION', 120, { readOnly: true }),
    i16('SYSID_THISMAV', 1, { min: 1, max: 255 }),
    i16('SYSID_MYGCS', 255, { min: 1, max: 255 }),
    i8('SYSID_ENFORCE', 0),
    i8('TELEM_DELAY', 0, { min: 0, max: 30 }),
    i16('GCS_PID_MASK', 0),
    // Failsafes.
    // 1 (RTL), not ArduCopter's 0: a hazing airframe is set up with it, and the station
    // refuses to start a pattern without it.
    i8('FS_GCS_ENABLE', 1, { min: 0, max: 7 }),
    f32('FS_GCS_TIMEOUT', 5, { min: 2, max: 120 }),
    i8('FS_THR_ENABLE', 1, { min: 0, max: 7 }),
    i16('FS_THR_VALUE', 975, { min: 910, max: 1100 }),
    i8('FS_BATT_ENABLE', 0, { min: 0, max: 3 }),
    i32('FS_OPTIONS', 16),
    i8('FS_EKF_ACTION', 1),
    f32('FS_EKF_THRESH', 0.8),
    i8('FS_CRASH_CHECK', 1),
    i8('FS_VIBE_ENABLE', 1),
    i8('FS_DR_ENABLE', 2),
    i16('FS_DR_TIMEOUT', 30),
    // Battery (a 4S 5200 mAh pack).
    i8('BATT_MONITOR', 4),
    i32('BATT_CAPACITY', 5200),
    f32('BATT_LOW_VOLT', 14.0, { min: 0, max: 100 }),
    f32('BATT_CRT_VOLT', 13.6, { min: 0, max: 100 }),
    i32('BATT_LOW_MAH', 0),
    i32('BATT_CRT_MAH', 0),
    i8('BATT_FS_LOW_ACT', 2),
    i8('BATT_FS_CRT_ACT', 1),
    i8('BATT_FS_VOLTSRC', 0),
    i8('BATT_LOW_TIMER', 10),
    f32('BATT_ARM_VOLT', 0),
    i32('BATT_ARM_MAH', 0),
    i8('BATT_VOLT_PIN', 13),
    i8('BATT_CURR_PIN', 12),
    f32('BATT_VOLT_MULT', 10.1),
    f32('BATT_AMP_PERVLT', 17),
    f32('BATT_AMP_OFFSET', 0),
    i32('BATT_SERIAL_NUM', -1),
    i32('BATT_OPTIONS', 0),
    // Return to launch (centimetres and cm/s, as ArduCopter keeps them).
    i32('RTL_ALT', 1500, { min: 200, max: 300000 }),
    f32('RTL_CONE_SLOPE', 3),
    i16('RTL_SPEED', 0),
    i32('RTL_ALT_FINAL', 0),
    i16('RTL_CLIMB_MIN', 0),
    i32('RTL_LOIT_TIME', 5000),
    i8('RTL_ALT_TYPE', 0),
    i32('RTL_OPTIONS', 0),
    // Waypoint navigation.
    f32('WPNAV_SPEED', 1000, { min: 20, max: 2000 }),
    f32('WPNAV_RADIUS', 200, { min: 5, max: 1000 }),
    f32('WPNAV_SPEED_UP', 250, { min: 10, max: 1000 }),
    f32('WPNAV_SPEED_DN', 150, { min: 10, max: 500 }),
    f32('WPNAV_ACCEL', 250),
    f32('WPNAV_ACCEL_Z', 100),
    f32('WPNAV_ACCEL_C', 0),
    f32('WPNAV_JERK', 1),
    f32('WPNAV_TER_MARGIN', 10),
    i8('WPNAV_RFND_USE', 1),
    i8('WP_YAW_BEHAVIOR', 2),
    f32('WP_NAVALT_MIN', 0),
    f32('LOIT_SPEED', 1250),
    f32('LOIT_ACC_MAX', 500),
    f32('LOIT_BRK_ACCEL', 250),
    f32('LOIT_BRK_JERK', 500),
    f32('LOIT_BRK_DELAY', 1),
    f32('LOIT_ANG_MAX', 0),
    i16('LAND_SPEED', 50, { min: 30, max: 200 }),
    i16('LAND_SPEED_HIGH', 0),
    i16('LAND_ALT_LOW', 1000),
    i8('LAND_REPOSITION', 1),
    i16('PILOT_SPEED_UP', 250),
    i16('PILOT_SPEED_DN', 0),
    i16('PILOT_ACCEL_Z', 250),
    f32('PILOT_Y_RATE', 202.5),
    f32('PILOT_Y_EXPO', 0),
    f32('PILOT_THR_FILT', 0),
    f32('PILOT_TKOFF_ALT', 0),
    i16('PILOT_THR_BHV', 0),
    f32('CIRCLE_RADIUS', 1000),
    f32('CIRCLE_RATE', 20),
    i16('CIRCLE_OPTIONS', 1),
    i16('PHLD_BRAKE_RATE', 8),
    i16('PHLD_BRAKE_ANGLE', 3000),
    f32('SRTL_ACCURACY', 2),
    i16('SRTL_POINTS', 300),
    i32('SRTL_OPTIONS', 0),
    i32('AUTO_OPTIONS', 0),
    i32('GUID_OPTIONS', 0),
    f32('GUID_TIMEOUT', 3),
    // Fence, rally points and mission.
    i8('FENCE_ENABLE', 0, { min: 0, max: 1 }),
    i8('FENCE_TYPE', 7),
    i8('FENCE_ACTION', 1),
    f32('FENCE_ALT_MAX', 100, { min: 10, max: 1000 }),
    f32('FENCE_ALT_MIN', -10),
    f32('FENCE_RADIUS', 300, { min: 30, max: 10000 }),
    f32('FENCE_MARGIN', 2),
    i8('FENCE_TOTAL', 0, { readOnly: true }),
    i8('FENCE_RET_RALLY', 0),
    i16('FENCE_RET_ALT', 0),
    i8('FENCE_AUTOENABLE', 0),
    i16('FENCE_OPTIONS', 0),
    i8('RALLY_TOTAL', 0, { readOnly: true }),
    f32('RALLY_LIMIT_KM', 0.3),
    i8('RALLY_INCL_HOME', 1),
    i16('MIS_TOTAL', 0, { readOnly: true }),
    i8('MIS_RESTART', 0),
    i16('MIS_OPTIONS', 0),
    // Arming and modes.
    i32('ARMING_CHECK', 1),
    i8('ARMING_RUDDER', 2),
    f32('ARMING_ACCTHRESH', 0.75),
    i32('ARMING_MIS_ITEMS', 0),
    i32('ARMING_OPTIONS', 0),
    i16('ARMING_MAGTHRESH', 100),
    i8('DISARM_DELAY', 10, { min: 0, max: 127 }),
    i8('FLTMODE1', 0),
    i8('FLTMODE2', 2),
    i8('FLTMODE3', 5),
    i8('FLTMODE4', 6),
    i8('FLTMODE5', 4),
    i8('FLTMODE6', 9),
    i8('FLTMODE_CH', 5),
    i8('INITIAL_MODE', 0),
    i8('SIMPLE', 0),
    i8('SUPER_SIMPLE', 0),
    i16('ANGLE_MAX', 3000, { min: 1000, max: 8000 }),
    f32('ACRO_RP_RATE', 360),
    f32('ACRO_Y_RATE', 202.5),
    f32('ACRO_RP_EXPO', 0.3),
    f32('ACRO_Y_EXPO', 0),
    f32('ACRO_THR_MID', 0),
    i8('ACRO_TRAINER', 2),
    i8('ACRO_OPTIONS', 0),
    i16('THR_DZ', 100),
    i8('ESC_CALIBRATION', 0),
    i8('FRAME_CLASS', 1),
    i8('FRAME_TYPE', 1),
    i8('THROW_MOT_START', 0),
    i8('THROW_TYPE', 0),
    i8('TUNE', 0),
    f32('TUNE_MIN', 0),
    f32('TUNE_MAX', 0),
    i32('DEV_OPTIONS', 0),
    i8('AUTOTUNE_AXES', 7),
    f32('AUTOTUNE_AGGR', 0.1),
    f32('AUTOTUNE_MIN_D', 0.001),
    // Motors.
    f32('MOT_SPIN_ARM', 0.1),
    f32('MOT_SPIN_MIN', 0.15),
    f32('MOT_SPIN_MAX', 0.95),
    f32('MOT_THST_EXPO', 0.65),
    f32('MOT_THST_HOVER', 0.35),
    i8('MOT_HOVER_LEARN', 2),
    i8('MOT_PWM_TYPE', 0),
    i16('MOT_PWM_MIN', 1000),
    i16('MOT_PWM_MAX', 2000),
    f32('MOT_BAT_VOLT_MAX', 0),
    f32('MOT_BAT_VOLT_MIN', 0),
    f32('MOT_BAT_CURR_MAX', 0),
    i8('MOT_BAT_IDX', 0),
    i8('MOT_SAFE_DISARM', 0),
    f32('MOT_SAFE_TIME', 1),
    f32('MOT_SLEW_UP_TIME', 0),
    f32('MOT_SLEW_DN_TIME', 0),
    i16('MOT_YAW_HEADROOM', 200),
    f32('MOT_BOOST_SCALE', 0),
    i16('MOT_OPTIONS', 0),
    // Attitude and position control.
    f32('ATC_ACCEL_P_MAX', 110000),
    f32('ATC_ACCEL_R_MAX', 110000),
    f32('ATC_ACCEL_Y_MAX', 27000),
    f32('ATC_ANG_PIT_P', 4.5),
    f32('ATC_ANG_RLL_P', 4.5),
    f32('ATC_ANG_YAW_P', 4.5),
    i8('ATC_ANGLE_BOOST', 1),
    i8('ATC_RATE_FF_ENAB', 1),
    f32('ATC_INPUT_TC', 0.15),
    f32('ATC_SLEW_YAW', 6000),
    f32('ATC_THR_MIX_MAN', 0.1),
    f32('ATC_THR_MIX_MIN', 0.1),
    f32('ATC_THR_MIX_MAX', 0.5),
    f32('PSC_POSXY_P', 1),
    f32('PSC_POSZ_P', 1),
    f32('PSC_ANGLE_MAX', 0),
    f32('PSC_JERK_XY', 5),
    f32('PSC_JERK_Z', 5),
    // Sensors and estimation.
    i16('INS_GYRO_FILTER', 20),
    i16('INS_ACCEL_FILTER', 20),
    i8('INS_USE', 1),
    i8('INS_USE2', 1),
    i8('INS_USE3', 1),
    i8('INS_GYR_CAL', 1),
    i8('INS_TRIM_OPTION', 1),
    i8('INS_FAST_SAMPLE', 1),
    i8('INS_HNTCH_ENABLE', 0),
    f32('INS_HNTCH_FREQ', 80),
    f32('INS_HNTCH_BW', 40),
    f32('INS_HNTCH_ATT', 40),
    f32('INS_HNTCH_REF', 0),
    i8('INS_HNTCH_MODE', 1),
    i8('INS_LOG_BAT_MASK', 0),
    i8('COMPASS_ENABLE', 1),
    i8('COMPASS_USE', 1),
    i8('COMPASS_USE2', 1),
    i8('COMPASS_USE3', 1),
    i8('COMPASS_AUTODEC', 1),
    f32('COMPASS_DEC', 0.2),
    i8('COMPASS_LEARN', 0),
    i8('COMPASS_ORIENT', 0),
    i8('COMPASS_EXTERNAL', 1),
    i8('COMPASS_AUTO_ROT', 2),
    i8('COMPASS_MOTCT', 0),
    i32('COMPASS_PRIO1_ID', 97539),
    i32('COMPASS_PRIO2_ID', 0),
    i32('COMPASS_PRIO3_ID', 0),
    i8('AHRS_GPS_USE', 1),
    f32('AHRS_YAW_P', 0.2),
    f32('AHRS_RP_P', 0.2),
    i8('AHRS_WIND_MAX', 0),
    i8('AHRS_ORIENTATION', 0),
    f32('AHRS_COMP_BETA', 0.1),
    i8('AHRS_GPS_MINSATS', 6),
    i8('AHRS_EKF_TYPE', 3),
    i8('EK3_ENABLE', 1),
    i8('EK3_IMU_MASK', 3),
    i8('EK3_PRIMARY', 0),
    f32('EK3_VELNE_M_NSE', 0.3),
    f32('EK3_VELD_M_NSE', 0.5),
    f32('EK3_POSNE_M_NSE', 0.5),
    f32('EK3_ALT_M_NSE', 2),
    f32('EK3_MAG_M_NSE', 0.05),
    f32('EK3_GYRO_P_NSE', 0.015),
    f32('EK3_ACC_P_NSE', 0.35),
    i8('EK3_SRC1_POSXY', 3),
    i8('EK3_SRC1_VELXY', 3),
    i8('EK3_SRC1_POSZ', 1),
    i8('EK3_SRC1_VELZ', 3),
    i8('EK3_SRC1_YAW', 1),
    i8('GPS_TYPE', 1),
    i8('GPS_TYPE2', 0),
    i8('GPS_NAVFILTER', 8),
    i8('GPS_AUTO_SWITCH', 1),
    i8('GPS_MIN_ELEV', -100),
    i8('GPS_SBAS_MODE', 2),
    i8('GPS_GNSS_MODE', 0),
    i16('GPS_RATE_MS', 200),
    i8('GPS_AUTO_CONFIG', 1),
    i16('GPS_HDOP_GOOD', 140),
    f32('BARO1_GND_PRESS', 101325, { readOnly: true }),
    f32('BARO_ALT_OFFSET', 0),
    i8('BARO_PRIMARY', 0),
    i8('BARO_EXT_BUS', -1),
    f32('BARO_GND_TEMP', 0),
    i8('BARO_FLTR_RNG', 0),
    i8('BARO_OPTIONS', 0),
    i8('RNGFND1_TYPE', 0),
    i16('RNGFND1_MIN_CM', 20),
    i16('RNGFND1_MAX_CM', 700),
    i8('RNGFND1_ORIENT', 25),
    i8('PRX1_TYPE', 0),
    i8('FLOW_TYPE', 0),
    i8('VISO_TYPE', 0),
    i8('BCN_TYPE', 0),
    i8('EAHRS_TYPE', 0),
    i8('TERRAIN_ENABLE', 1),
    i16('TERRAIN_SPACING', 100),
    i16('TERRAIN_OPTIONS', 0),
    // Avoidance and extras.
    i8('AVOID_ENABLE', 3),
    f32('AVOID_MARGIN', 2),
    i8('AVOID_BEHAVE', 0),
    f32('AVOID_DIST_MAX', 5),
    i8('OA_TYPE', 0),
    i8('PLND_ENABLED', 0),
    i8('ADSB_TYPE', 0),
    i8('FOLL_ENABLE', 0),
    i8('CHUTE_ENABLED', 0),
    i8('GRIP_ENABLE', 0),
    i8('LGR_ENABLE', 0),
    i8('WINCH_TYPE', 0),
    i8('SPRAY_ENABLE', 0),
    i8('RPM1_TYPE', 0),
    i8('EFI_TYPE', 0),
    i8('TCAL_ENABLED', 0),
    i8('SCR_ENABLE', 0),
    i8('OSD_TYPE', 0),
    i8('MSP_OPTIONS', 0),
    i8('CAN_P1_DRIVER', 0),
    i8('CAN_P2_DRIVER', 0),
    i8('CAN_D1_PROTOCOL', 1),
    // Gimbal and camera.
    i8('MNT1_TYPE', 1),
    i8('MNT1_DEFLT_MODE', 3),
    f32('MNT1_RC_RATE', 90),
    f32('MNT1_PITCH_MIN', -90),
    f32('MNT1_PITCH_MAX', 30),
    f32('MNT1_ROLL_MIN', -30),
    f32('MNT1_ROLL_MAX', 30),
    f32('MNT1_YAW_MIN', -180),
    f32('MNT1_YAW_MAX', 180),
    f32('MNT1_NEUTRAL_X', 0),
    f32('MNT1_NEUTRAL_Y', 0),
    f32('MNT1_NEUTRAL_Z', 0),
    f32('MNT1_RETRACT_X', 0),
    f32('MNT1_RETRACT_Y', 0),
    f32('MNT1_RETRACT_Z', 0),
    i16('MNT1_OPTIONS', 0),
    i8('CAM1_TYPE', 0),
    f32('CAM1_DURATION', 0),
    i16('CAM1_SERVO_ON', 1300),
    i16('CAM1_SERVO_OFF', 1100),
    f32('CAM1_TRIGG_DIST', 0),
    // Logging, board, scheduler, notifications, statistics.
    i32('LOG_BITMASK', 176126),
    i8('LOG_BACKEND_TYPE', 1),
    i8('LOG_DISARMED', 0),
    i16('LOG_FILE_BUFSIZE', 200),
    i8('LOG_FILE_DSRMROT', 0),
    i8('LOG_REPLAY', 0),
    i8('BRD_SAFETYENABLE', 1),
    i32('BRD_SAFETY_MASK', 0),
    i8('BRD_SER1_RTSCTS', 2),
    i16('BRD_BOOT_DELAY', 0),
    i8('BRD_RTC_TYPES', 1),
    i32('BRD_OPTIONS', 1),
    f32('BRD_VBUS_MIN', 4.3),
    f32('BRD_VSERVO_MIN', 0),
    i16('SCHED_LOOP_RATE', 400),
    i8('SCHED_DEBUG', 0),
    i8('SCHED_OPTIONS', 0),
    i32('NTF_LED_TYPES', 199),
    i8('NTF_BUZZ_TYPES', 1),
    i8('NTF_LED_BRIGHT', 3),
    i8('NTF_LED_OVERRIDE', 0),
    i8('NTF_DISPLAY_TYPE', 0),
    i8('NTF_BUZZ_VOLUME', 100),
    i16('STAT_BOOTCNT', 12, { readOnly: true }),
    i32('STAT_FLTTIME', 0, { readOnly: true }),
    i32('STAT_RUNTIME', 0, { readOnly: true }),
    i32('STAT_RESET', 0),
    f32('RC_OVERRIDE_TIME', 3),
    i32('RC_OPTIONS', 32),
    i32('RC_PROTOCOLS', 1),
    i8('RCMAP_ROLL', 1),
    i8('RCMAP_PITCH', 2),
    i8('RCMAP_THROTTLE', 3),
    i8('RCMAP_YAW', 4),
    i16('SERVO_RATE', 50),
    i8('SERVO_DSHOT_ESC', 0),
    i32('SERIAL0_BAUD', 115),
    i8('SERIAL0_PROTOCOL', 2),
  ];

  for (const axis of ['RLL', 'PIT', 'YAW']) {
    const yaw = axis === 'YAW';
    table.push(
      f32(`ATC_RAT_${axis}_P`, yaw ? 0.18 : 0.135),
      f32(`ATC_RAT_${axis}_I`, yaw ? 0.018 : 0.135),
      f32(`ATC_RAT_${axis}_D`, yaw ? 0 : 0.0036),
      f32(`ATC_RAT_${axis}_IMAX`, yaw ? 0.5 : 0.5),
      f32(`ATC_RAT_${axis}_FF`, 0),
      f32(`ATC_RAT_${axis}_FLTT`, yaw ? 20 : 20),
      f32(`ATC_RAT_${axis}_FLTE`, yaw ? 2.5 : 0),
      f32(`ATC_RAT_${axis}_FLTD`, yaw ? 0 : 20),
      f32(`ATC_RAT_${axis}_SMAX`, 0),
    );
  }
  const pid = (prefix: string, values: Record<string, number>): void => {
    for (const [suffix, value] of Object.entries(values))
      table.push(f32(`${prefix}_${suffix}`, value));
  };
  pid('PSC_VELXY', { P: 2, I: 1, D: 0.5, IMAX: 1000, FF: 0, FLTE: 5, FLTD: 5 });
  pid('PSC_VELZ', { P: 5, I: 0, D: 0, IMAX: 1000, FF: 0, FLTE: 5, FLTD: 5 });
  pid('PSC_ACCZ', { P: 0.5, I: 1, D: 0, IMAX: 800, FF: 0, FLTT: 0, FLTE: 20, FLTD: 0, SMAX: 0 });

  for (const axis of ['X', 'Y', 'Z']) {
    table.push(
      f32(`INS_ACCOFFS_${axis}`, 0.001),
      f32(`INS_ACCSCAL_${axis}`, 1),
      f32(`INS_GYROFFS_${axis}`, 0),
      f32(`INS_ACC2OFFS_${axis}`, 0.001),
      f32(`INS_ACC2SCAL_${axis}`, 1),
      f32(`INS_GYR2OFFS_${axis}`, 0),
      f32(`INS_POS1_${axis}`, 0),
      f32(`COMPASS_OFS_${axis}`, axis === 'Z' ? -25 : 12),
      f32(`COMPASS_OFS2_${axis}`, 0),
      f32(`COMPASS_DIA_${axis}`, 1),
      f32(`COMPASS_ODI_${axis}`, 0),
      f32(`COMPASS_MOT_${axis}`, 0),
      f32(`AHRS_TRIM_${axis}`, 0),
      f32(`GPS_POS1_${axis}`, 0),
    );
  }

  // Telemetry stream rates (Hz) per serial port, as ArduPilot's SRn_ groups.
  const streams = ['RAW_SENS', 'EXT_STAT', 'RC_CHAN', 'RAW_CTRL', 'POSITION', 'EXTRA1', 'EXTRA2'];
  for (let port = 0; port < 4; port++) {
    for (const stream of [...streams, 'EXTRA3', 'PARAMS', 'ADSB']) {
      const rateHz = stream === 'PARAMS' ? 10 : stream === 'ADSB' ? 0 : port === 0 ? 0 : 4;
      table.push(i16(`SR${port}_${stream}`, rateHz, { min: 0, max: 50 }));
    }
  }
  for (let port = 1; port <= 7; port++) {
    table.push(
      i32(`SERIAL${port}_BAUD`, port <= 2 ? 57 : 115),
      i8(`SERIAL${port}_PROTOCOL`, port <= 2 ? 2 : port === 3 ? 5 : -1),
      i16(`SERIAL${port}_OPTIONS`, 0),
    );
  }
  for (let channel = 1; channel <= 16; channel++) {
    table.push(
      i16(`RC${channel}_MIN`, 1100),
      i16(`RC${channel}_TRIM`, channel === 3 ? 1100 : 1500),
      i16(`RC${channel}_MAX`, 1900),
      i8(`RC${channel}_REVERSED`, 0),
      i16(`RC${channel}_DZ`, channel <= 4 ? 20 : 0),
      i16(`RC${channel}_OPTION`, 0),
    );
  }
  for (let output = 1; output <= 16; output++) {
    table.push(
      i16(`SERVO${output}_MIN`, 1100),
      i16(`SERVO${output}_MAX`, 1900),
      i16(`SERVO${output}_TRIM`, 1500),
      i8(`SERVO${output}_REVERSED`, 0),
      // Outputs 1 to 4 drive the motors (functions 33 to 36).
      i16(`SERVO${output}_FUNCTION`, output <= 4 ? 32 + output : 0),
    );
  }
  return table;
}

/** The table, sorted by name so that indices are stable. */
export function arduCopterParamSpecs(): SimParamSpec[] {
  return rows()
    .map(([name, type, value, extra]) => ({ name, type, value, ...extra }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export type SetResult = 'set' | 'clamped' | 'read-only' | 'unknown';

export class SimParams {
  private readonly specs: SimParamSpec[];
  private readonly values: number[];
  private readonly indexByName = new Map<string, number>();

  constructor(specs: SimParamSpec[] = arduCopterParamSpecs()) {
    this.specs = specs;
    this.values = specs.map((spec) => stored(spec.type, spec.value));
    specs.forEach((spec, index) => {
      if (this.indexByName.has(spec.name)) throw new Error(`parameter ${spec.name} twice`);
      if (spec.name.length > 16) throw new Error(`parameter name ${spec.name} is over 16 chars`);
      this.indexByName.set(spec.name, index);
    });
  }

  get count(): number {
    return this.specs.length;
  }

  indexOf(name: string): number | null {
    return this.indexByName.get(name) ?? null;
  }

  at(index: number): { spec: SimParamSpec; value: number } | null {
    const spec = this.specs[index];
    return spec ? { spec, value: this.values[index] } : null;
  }

  /** A known parameter's value; unknown names are a programming error here. */
  get(name: string): number {
    const index = this.indexByName.get(name);
    if (index === undefined) throw new Error(`the simulator has no parameter ${name}`);
    return this.values[index];
  }

  /** Sets as ArduPilot does: integers are truncated to their type, ranges are enforced. */
  set(name: string, requested: number): { result: SetResult; value: number | null } {
    const index = this.indexByName.get(name);
    if (index === undefined) return { result: 'unknown', value: null };
    const spec = this.specs[index];
    if (spec.readOnly || !Number.isFinite(requested)) {
      return { result: 'read-only', value: this.values[index] };
    }
    let value = stored(spec.type, requested);
    const wanted = value;
    if (spec.min !== undefined && value < spec.min) value = stored(spec.type, spec.min);
    if (spec.max !== undefined && value > spec.max) value = stored(spec.type, spec.max);
    this.values[index] = value;
    return { result: value === wanted ? 'set' : 'clamped', value };
  }

  /** Every name and value, for tests and events. */
  snapshot(): Array<{ name: string; type: SimParamType; value: number }> {
    return this.specs.map((spec, index) => ({
      name: spec.name,
      type: spec.type,
      value: this.values[index],
    }));
  }
}

function stored(type: SimParamType, value: number): number {
  if (type === 'REAL32') return Math.fround(value);
  const [min, max] = TYPE_RANGES[type];
  return Math.min(max, Math.max(min, Math.trunc(value)));
}
