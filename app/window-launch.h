/* window-launch.h — `offshoot` with no command, or with only a model and window options: the
 * window, which is a program of its own (offshoot-window) so that the CLI links no GTK. */
#pragma once

/* Replaces this process with `offshoot-window` found beside this program (in the build tree as
 * where installed), given the same arguments. Returns only when it could not, after a one-line
 * error on stderr, with the exit status to end with. */
int osh_window_exec (char **argv);
