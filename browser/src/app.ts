// The page: JupyterLab 4.6 with JupyterLite's in-browser services, every plugin bundled in (no module federation),
// plus the course's kernel and a "reset this notebook" command.
import { JupyterLab, type JupyterFrontEndPlugin } from "@jupyterlab/application";
import { PageConfig } from "@jupyterlab/coreutils";
import { IServiceManager } from "@jupyterlab/services";
import { PluginRegistry } from "@lumino/coreutils";
import { ICommandPalette, Dialog, showDialog } from "@jupyterlab/apputils";
import { IDocumentManager } from "@jupyterlab/docmanager";
import { IMainMenu } from "@jupyterlab/mainmenu";
import { INotebookTracker } from "@jupyterlab/notebook";
import { IKernelSpecs, IKernelClient } from "@jupyterlite/services";
import { CourseKernel } from "./kernel";

import "@jupyterlab/application-extension/style/index.js";
import "@jupyterlab/apputils-extension/style/index.js";
import "@jupyterlab/codemirror-extension/style/index.js";
import "@jupyterlab/completer-extension/style/index.js";
import "@jupyterlab/docmanager-extension/style/index.js";
import "@jupyterlab/documentsearch-extension/style/index.js";
import "@jupyterlab/filebrowser-extension/style/index.js";
import "@jupyterlab/launcher-extension/style/index.js";
import "@jupyterlab/mainmenu-extension/style/index.js";
import "@jupyterlab/markedparser-extension/style/index.js";
import "@jupyterlab/mathjax-extension/style/index.js";
import "@jupyterlab/notebook-extension/style/index.js";
import "@jupyterlab/rendermime-extension/style/index.js";
import "@jupyterlab/shortcuts-extension/style/index.js";
import "@jupyterlab/statusbar-extension/style/index.js";
import "@jupyterlab/translation-extension/style/index.js";
import "@jupyterlab/ui-components-extension/style/index.js";
import "@jupyterlite/application-extension/style/index.js";

/** The notebooks' kernelspec (their metadata names it). */
export const KERNEL_NAME = "attention-course";

const DISABLED = new Set([
  // Served by JupyterLite's own plugins, or meaningless without a server.
  "@jupyterlab/application-extension:logo",
  "@jupyterlab/application-extension:main",
  "@jupyterlab/application-extension:tree-resolver",
  "@jupyterlab/application-extension:router",
  "@jupyterlab/apputils-extension:licenses-client",
  "@jupyterlab/apputils-extension:announcements",
  "@jupyterlab/apputils-extension:resolver",
  "@jupyterlab/docmanager-extension:download",
  "@jupyterlab/filebrowser-extension:download",
  "@jupyterlab/filebrowser-extension:share-file",
  "@jupyterlab/services-extension:config-section-manager",
  "@jupyterlab/services-extension:connection-status",
  "@jupyterlab/services-extension:default-drive",
  "@jupyterlab/services-extension:event-manager",
  "@jupyterlab/services-extension:kernel-manager",
  "@jupyterlab/services-extension:kernel-spec-manager",
  "@jupyterlab/services-extension:nbconvert-manager",
  "@jupyterlab/services-extension:session-manager",
  "@jupyterlab/services-extension:setting-manager",
  "@jupyterlab/services-extension:user-manager",
  "@jupyterlab/services-extension:workspace-manager",
  "@jupyterlite/application-extension:logo",
  "@jupyterlite/application-extension:notify-commands",
  // JupyterLite's service worker serves files to Python kernels; this course's kernel reads the site directly.
  "@jupyterlite/application-extension:service-worker-manager",
  // Their providers (table of contents, language servers) are not in this build.
  "@jupyterlab/notebook-extension:toc",
  "@jupyterlab/notebook-extension:language-server",
  "@jupyterlab/notebook-extension:update-raw-mimetype",
  "@jupyterlite/application-extension:lsp-connection-manager",
]);

async function extensions(): Promise<JupyterFrontEndPlugin<unknown>[]> {
  const modules = await Promise.all([
    import("@jupyterlab/application-extension"),
    import("@jupyterlab/apputils-extension"),
    import("@jupyterlab/codemirror-extension"),
    import("@jupyterlab/completer-extension"),
    import("@jupyterlab/docmanager-extension"),
    import("@jupyterlab/documentsearch-extension"),
    import("@jupyterlab/filebrowser-extension"),
    import("@jupyterlab/launcher-extension"),
    import("@jupyterlab/mainmenu-extension"),
    import("@jupyterlab/markedparser-extension"),
    import("@jupyterlab/mathjax-extension"),
    import("@jupyterlab/notebook-extension"),
    import("@jupyterlab/rendermime-extension"),
    import("@jupyterlab/services-extension"),
    import("@jupyterlab/shortcuts-extension"),
    import("@jupyterlab/statusbar-extension"),
    import("@jupyterlab/theme-light-extension"),
    import("@jupyterlab/translation-extension"),
    import("@jupyterlab/ui-components-extension"),
    import("@jupyterlite/application-extension"),
    import("@jupyterlite/apputils-extension"),
    import("@jupyterlite/services-extension"),
  ]);
  const all = modules.flatMap((m) => {
    const d = (m as { default?: unknown }).default ?? m;
    return (Array.isArray(d) ? d : [d]) as JupyterFrontEndPlugin<unknown>[];
  });
  return all.filter((p) => !DISABLED.has(p.id));
}

const kernels = new Map<string, CourseKernel>();

/** The course's kernel under the notebooks' kernelspec name; Interrupt reaches it (JupyterLite only cancels queued cells). */
const kernelPlugin: JupyterFrontEndPlugin<void> = {
  id: "attention-course:kernel",
  description: "The course's TypeScript kernel, in a Web Worker",
  autoStart: true,
  requires: [IKernelSpecs],
  optional: [IKernelClient],
  activate: (_app, specs: IKernelSpecs, client: IKernelClient | null) => {
    const base = PageConfig.getBaseUrl();
    const workerUrl = new URL("build/kernel-worker.js", base).href;
    specs.register({
      spec: {
        name: KERNEL_NAME,
        display_name: "TypeScript (attention course)",
        language: "typescript",
        argv: [],
        resources: { "logo-64x64": new URL("build/kernel-logo.svg", base).href },
      },
      create: async (options) => {
        const kernel = new CourseKernel(options, workerUrl, base);
        kernels.set(options.id, kernel);
        kernel.disposed.connect(() => kernels.get(options.id) === kernel && kernels.delete(options.id));
        return kernel;
      },
    });
    if (client) {
      const interrupt = client.interrupt.bind(client);
      client.interrupt = async (id: string) => {
        kernels.get(id)?.interrupt();
        return interrupt(id);
      };
    }
  },
};

const RESET = "attention-course:reset-notebook";

/** Drop the browser's copy of the open notebook, so that the course's version shows again. */
const resetPlugin: JupyterFrontEndPlugin<void> = {
  id: "attention-course:reset",
  description: "Reset a notebook to the course's version",
  autoStart: true,
  requires: [INotebookTracker, IDocumentManager],
  optional: [ICommandPalette, IMainMenu],
  activate: (app, tracker: INotebookTracker, docs: IDocumentManager, palette: ICommandPalette | null, menu: IMainMenu | null) => {
    app.commands.addCommand(RESET, {
      label: "Reset Notebook to the Course's Version",
      caption: "Forget your edits of this notebook (kept in this browser) and open the course's version",
      isEnabled: () => tracker.currentWidget !== null,
      execute: async (args) => {
        const widget = tracker.currentWidget;
        if (!widget) return;
        const path = widget.context.path;
        if (!args.force) {
          const answer = await showDialog({
            title: "Reset to the course's version?",
            body: `Your edits and outputs in ${path} are kept in this browser only; resetting deletes them. Download the notebook first to keep a copy.`,
            buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: "Reset" })],
          });
          if (!answer.button.accept) return;
        }
        widget.context.model.dirty = false;
        widget.dispose();
        await app.serviceManager.contents.delete(path);
        docs.openOrReveal(path);
      },
    });
    palette?.addItem({ command: RESET, category: "Notebook Operations" });
    menu?.fileMenu.addGroup([{ command: RESET }], 40);
  },
};

async function main() {
  const plugins = [...(await extensions()), kernelPlugin, resetPlugin];
  const registry = new PluginRegistry();
  registry.registerPlugins(plugins);
  const serviceManager = await registry.resolveRequiredService(IServiceManager);
  const lab = new JupyterLab({ pluginRegistry: registry, serviceManager } as unknown as JupyterLab.IOptions);
  lab.name = PageConfig.getOption("appName") || "JupyterLite";
  (window as unknown as { jupyterapp: JupyterLab }).jupyterapp = lab;
  await lab.start({ bubblingKeydown: true } as never);
  await lab.restored;
  document.body.dataset.courseReady = "true";
}

void main();
