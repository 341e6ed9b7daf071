/* opcodes.c - the opcode table, expanded from the one list. */
#include "opcodes.h"

const struct vm_opinfo vm_opinfo[OP__COUNT] = {
#define VM_OPINFO(name, operands, pops, pushes, flags, word, doc)	\
	[OP_##name] = { #name, operands, pops, pushes, flags, word, doc, \
			1 + 4 * (sizeof(operands) - 1) },
	VM_OPCODES(VM_OPINFO)
#undef VM_OPINFO
};

/* Code that decodes an instruction's operands into an array sizes it by
 * VM_MAX_OPERANDS. */
#define VM_OPCHECK(name, operands, pops, pushes, flags, word, doc)	\
	_Static_assert(sizeof(operands) - 1 <= VM_MAX_OPERANDS,	\
		       #name " has more than VM_MAX_OPERANDS operands");
VM_OPCODES(VM_OPCHECK)
#undef VM_OPCHECK
