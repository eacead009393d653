/* sandbox/title.h: how a long-lived fork of nook shows in ps. */
#ifndef NOOK_SANDBOX_TITLE_H
#define NOOK_SANDBOX_TITLE_H

/* Set the process name and overwrite nook's argument area with `title`
 * (and wipe its environment): a helper that outlives the `nook run` that
 * forked it (a network's holder) must not keep that command line on show.
 * (Defined in sandbox/init.c, as the container's init uses it.) */
void sandbox_set_title (const char *title);

#endif
