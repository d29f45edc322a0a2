/** The student's path in JupyterLab 4, the UI `npm start` opens (student_path.ts). */
import { describeStudentPath } from './student_path';

describeStudentPath('lab');
