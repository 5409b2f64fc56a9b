// Where the real RT-DC sample files are: `PLATFORM_TEST_RTDC_DIR` when set, else the copies of
// dclab's test data in test/fixtures/rtdc-dclab (README there says where they come from).
import { fileURLToPath } from 'node:url';

/** The folder holding calibration_beads.rtdc, 2020-10_image_bg.rtdc and mask_contour_reference.rtdc. */
export const rtdcSamplesDir: string = process.env.PLATFORM_TEST_RTDC_DIR ?? fileURLToPath(new URL('../../../test/fixtures/rtdc-dclab/', import.meta.url));
