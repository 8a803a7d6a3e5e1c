// JupyterLab (jupyter-collaboration) loads its own copy of Yjs, and Yjs logs an error when a second copy is
// imported, because Y types shared between copies fail `instanceof` checks. The Canvas never passes Y types
// to or from JupyterLab's copy, so the warning is a false alarm here: clear the flag before our copy loads.
delete (globalThis as any)["__ $YJS$ __"];
export {};
