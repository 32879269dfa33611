/*
 * version: --version, and the features a build may lack.
 */
#ifndef KEYLOCK_VERSION_H
#define KEYLOCK_VERSION_H

/* "keylock --version [--json]": argv[0] is the option.  Prints the
   version and the features built in; returns 0, or exits 64 on misuse. */
int	version_main(int argc, char **argv);
/* Returns if feature name is built in; otherwise prints one line naming
   the configure option that enables it and exits 64. */
void	feature_require(const char *name);

#endif
