#ifndef SX_ID_H
#define SX_ID_H
/*
 * Identifiers: a prefix (`tsk_`, `stp_`, `o_`, `art_`, …) then 26 Crockford
 * base32 characters, lower case: 48 bits of milliseconds since the epoch
 * (so ids sort by creation time) and 80 bits from the CSPRNG (so
 * they cannot be guessed).
 */
#include "sx.h"

#define SX_ID_MAX 40

/* Writes a new id with the given prefix into out (SX_ID_MAX bytes). */
void sx_id_new(char out[SX_ID_MAX], const char *prefix);
/* True when s is prefix + 26 valid base32 characters. */
bool sx_id_valid(const char *s, const char *prefix);
#endif
