/* imagefmt/export.h: a container's filesystem as one tar (`nook export`): its image's
 * unpacked layers and its own upper directory merged as overlayfs shows them (whiteouts,
 * as 0:0 character devices or .wh. files, hide what is below; opaque directories,
 * user./trusted.overlay.opaque, user.fuseoverlayfs.opaque or .wh..wh..opq, hide the lower
 * ones), owners from
 * user.containers.override_stat where a layer has it.  Entries sorted, names relative
 * ("bin/sh"), no "./" prefix, as docker export writes them. */
#ifndef NOOK_IMAGEFMT_EXPORT_H
#define NOOK_IMAGEFMT_EXPORT_H

#include "imagefmt/store.h"
#include "util/error.h"

/* dirs: absolute directories, bottom first (the container's upper last).  Runs through the
 * store's hooks (as root of the containers' user namespace, which can read every file
 * and sees the containers' ids).  skip_top: a name at the root of the top directory that
 * is nook's and not the container's (copy-up's ".nook-copied"), or NULL. */
int imagefmt_export_tree (struct imagefmt_store *s, char *const *dirs, const char *skip_top,
                          int outfd, nook_error_t *err);

#endif
