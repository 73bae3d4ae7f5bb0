"""The Singer SDK's standard tap tests, for each seed's config, against a live sandbox.

`get_tap_test_class` builds its tests when this module is imported (it instantiates the
tap to list streams, and seed 001's resource infers its schema from the server), so the
sandbox starts at import and stops at interpreter exit.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from sandbox import SandboxServer
from tap_analytics.tap import TapAnalytics

from .helpers import config_for

#: Small resources (the standard tests sync everything up to 150 records a stream), with a
#: few records more than one page of seed 002 (50) so paging is exercised.
_SERVER = SandboxServer(records=60).start()
atexit.register(_SERVER.stop)

_SUITE = SuiteConfig(max_records_limit=150)

TestDevplatformStandard = get_tap_test_class(
    TapAnalytics, config=config_for(_SERVER, "devplatform"), suite_config=_SUITE
)
TestGenericStandard = get_tap_test_class(
    TapAnalytics, config=config_for(_SERVER, "generic"), suite_config=_SUITE
)
#: Seed 002's server rotates refresh tokens, and the SDK's runner creates several taps
#: from one config: the tap's token cache carries the rotated token from one to the next.
_CACHE_DIR = Path(tempfile.mkdtemp(prefix="tap-analytics-sdk-tests-"))
atexit.register(shutil.rmtree, _CACHE_DIR, True)
_HELPDESK = config_for(_SERVER, "helpdesk", token_cache_path=str(_CACHE_DIR / "tokens.json"))
TestHelpdeskStandard = get_tap_test_class(TapAnalytics, config=_HELPDESK, suite_config=_SUITE)
TestTimetrackingStandard = get_tap_test_class(
    TapAnalytics, config=config_for(_SERVER, "timetracking"), suite_config=_SUITE
)
TestStatuspageStandard = get_tap_test_class(
    TapAnalytics, config=config_for(_SERVER, "statuspage"), suite_config=_SUITE
)
