/* offshoot-trace.h — with OFFSHOOT_TRACE set, one line to stderr for what the user did and what
 * came of it (defined in offshoot-window.c; tests/ui/e2e-xdotool.sh and tools read the lines).
 * Main thread only. */
#pragma once

#include <glib.h>

void offshoot_window_trace (const char *fmt, ...) G_GNUC_PRINTF (1, 2);
