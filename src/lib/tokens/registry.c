/*
 * registry.c — the one list of token types (see tokentype.h).  Adding a
 * type is one file in this folder and one line here.
 */
#include "tokentype.h"

#include <strings.h>

const struct token_type *const token_types[] = {
	&token_type_hotp,  &token_type_totp,	      &token_type_spass, &token_type_pw,
	&token_type_paper, &token_type_registration, &token_type_tan,	 &token_type_certificate, NULL,
};

const struct token_type *token_type_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; token_types[i]; i++)
		if (!strcasecmp(token_types[i]->name, name))
			return token_types[i];
	return NULL;
}

json_t *token_types_enrollable(int user)
{
	json_t *o = json_object();
	for (size_t i = 0; o && token_types[i]; i++)
		if (token_types[i]->ui_enroll & (user ? TOKEN_UI_USER : TOKEN_UI_ADMIN))
			json_object_set_new(o, token_types[i]->name, json_string(token_types[i]->description));
	return o;
}
