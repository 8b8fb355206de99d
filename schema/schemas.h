#ifndef LANYARD_SCHEMAS_H
#define LANYARD_SCHEMAS_H 1

/* OVSDB schemas compiled into the binaries (see schema/README.md).
 *
 * Both are the exact text of the corresponding .ovsschema file, as a
 * NUL-terminated JSON string suitable for json_loads(). */

/* schema/vswitch.ovsschema: the Open_vSwitch database, version 8.3.1. */
extern const char lanyard_vswitch_schema[];

/* schema/_server.ovsschema: the built-in _Server database, version 1.2.0. */
extern const char lanyard_server_schema[];

#endif /* schemas.h */
