// The French words of the dashboard where Streamlit and its components write English ones: their
// texts, placeholders, labels and titles, and the language of every document, map frames included.
(() => {
  if (window.ptiFrench) return;
  window.ptiFrench = true;
  const WORDS = {
    "Drag and drop file here": "Glissez-déposez le fichier ici",
    "Drag and drop files here": "Glissez-déposez les fichiers ici",
    "Drag and drop directories here": "Glissez-déposez les dossiers ici",
    "Upload": "Choisir un fichier",
    "Upload directories": "Choisir un dossier",
    "Add files": "Ajouter des fichiers",
    "Browse files": "Parcourir",
    "Choose an option": "Choisissez",
    "Choose options": "Choisissez",
    "Choose or add an option": "Choisissez ou ajoutez",
    "Choose or add options": "Choisissez ou ajoutez",
    "No results": "Aucun résultat",
    "Select all": "Tout sélectionner",
    "Running...": "Calcul en cours…",
    "Stop": "Arrêter",
    "Stopping...": "Arrêt en cours…",
    "Rerun": "Relancer",
    "Settings": "Réglages",
    "Print": "Imprimer",
    "Record a screencast": "Enregistrer l'écran",
    "Stop recording": "Arrêter l'enregistrement",
    "About": "À propos",
    "Clear cache": "Vider le cache",
    "Clear caches": "Vider les caches",
    "Download as CSV": "Télécharger en CSV",
    "Download as PNG": "Télécharger en PNG",
    "Search": "Rechercher",
    "Fullscreen": "Plein écran",
    "Close fullscreen": "Quitter le plein écran",
    "Close": "Fermer",
    "Close popup": "Fermer",
    "Show/hide columns": "Afficher ou masquer des colonnes",
    "Copy to clipboard": "Copier",
    "Copy": "Copier",
    "Clear value": "Effacer",
    "Clear selection": "Effacer la sélection",
    "Clear all": "Tout effacer",
    "Add row": "Ajouter une ligne",
    "Delete row": "Supprimer la ligne",
    "Delete rows": "Supprimer les lignes",
    "Please wait...": "Patientez…",
    "Connecting": "Connexion…",
    "Show password": "Afficher le mot de passe",
    "Hide password": "Masquer le mot de passe",
    "Press Enter to apply": "Entrée pour valider",
    "Press Enter to submit form": "Entrée pour envoyer le formulaire",
    "Press Enter to submit": "Entrée pour envoyer",
    "Zoom in": "Zoom avant",
    "Zoom out": "Zoom arrière",
    "Open": "Ouvrir",
    "Main menu": "Menu principal",
    "Show data": "Afficher les données",
    "Show chart": "Afficher le graphique",
  };
  const UNITS = { B: "o", KB: "Ko", MB: "Mo", GB: "Go" };
  const PATTERNS = [
    [/^(\d+(?:\.\d+)?)\s?(B|KB|MB|GB) per file$/, (m, n, u) => `${n.replace(".", ",")} ${UNITS[u]} par fichier`],
    [/^Limit (\d+(?:\.\d+)?)\s?(B|KB|MB|GB) per file(.*)$/,
      (m, n, u, rest) => `Limite ${n.replace(".", ",")} ${UNITS[u]} par fichier${rest}`],
    [/^(.+) files are not allowed\.?$/, (m, kind) => `Les fichiers de type ${kind} ne sont pas acceptés ici.`],
    [/^File must be (\d+(?:\.\d+)?)\s?(B|KB|MB|GB) or smaller\.?$/,
      (m, n, u) => `Le fichier doit faire au plus ${n.replace(".", ",")} ${UNITS[u]}.`],
    [/^Remove (.+)$/, (m, what) => `Retirer ${what === "option" ? "l'option" : what}`],
    [/^Cancel upload of (.+)$/, (m, what) => `Annuler l'envoi de ${what}`],
    [/^Press (⌘|Ctrl)\+Enter to (apply|submit form|submit)$/, (m, key) => `${key}+Entrée pour valider`],
  ];
  const ATTRIBUTES = ["placeholder", "aria-label", "title"];
  const MAP_FRAME = /^(streamlit_folium\.|st\.iframe$)/;  // the frames that hold maps
  const watched = new WeakSet();

  function french(text) {
    const bare = text.trim();
    if (!bare) return null;
    if (Object.prototype.hasOwnProperty.call(WORDS, bare)) return text.replace(bare, WORDS[bare]);
    for (const [pattern, replace] of PATTERNS) {
      if (pattern.test(bare)) return text.replace(bare, bare.replace(pattern, replace));
    }
    return null;
  }

  function frame(element) {
    if (MAP_FRAME.test(element.getAttribute("title") || "")) element.setAttribute("title", "Carte interactive");
    try {  // the frames of the dashboard's own components share its origin
      const inner = element.contentDocument;
      if (inner && inner.documentElement && inner.documentElement.lang !== "fr") inner.documentElement.lang = "fr";
    } catch (error) { /* another origin: left as it is */ }
  }

  function fix(root) {
    if (root.nodeType === Node.TEXT_NODE) {
      const done = french(root.nodeValue);
      if (done !== null && done !== root.nodeValue) root.nodeValue = done;
      return;
    }
    if (root.nodeType !== Node.ELEMENT_NODE) return;
    const elements = [root, ...root.querySelectorAll("*")];
    for (const element of elements) {
      for (const name of ATTRIBUTES) {
        const value = element.getAttribute(name);
        const done = value && french(value);
        if (done && done !== value) element.setAttribute(name, done);
      }
      if (element.tagName === "IFRAME") {
        frame(element);
        if (!watched.has(element)) element.addEventListener("load", () => frame(element));
        watched.add(element);
      }
    }
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) fix(node);
  }

  document.documentElement.lang = "fr";
  fix(document.body);
  new MutationObserver((changes) => {
    for (const change of changes) {
      if (change.type === "characterData") fix(change.target);
      else if (change.type === "attributes") fix(change.target);
      else change.addedNodes.forEach(fix);
    }
  }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true,
    attributeFilter: ATTRIBUTES });
})();
