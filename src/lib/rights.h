/*
 * rights.h — default rights lists (see rights.c).
 */
#ifndef TESSERA_RIGHTS_H
#define TESSERA_RIGHTS_H

#include <jansson.h>

/* New array of every admin-scope action name. */
json_t *rights_admin_all(void);

#endif
